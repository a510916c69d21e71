"""Reality models of a simulated exchange, shared by the backtester and the paper venue.

Fees (:mod:`.fees`), slippage (:mod:`.slippage`), funding (:mod:`.funding`), margin and liquidation
(:mod:`.margin`) are small swappable objects; :class:`SimulatedAccount` (:mod:`.account`) holds the
balances and positions they act on.
"""

from typing import TYPE_CHECKING

from trimtab.lazy import lazy_exports

if TYPE_CHECKING:
    from trimtab.venues.simulation.account import FillReport, PerpPosition, SimulatedAccount
    from trimtab.venues.simulation.expiry import Settlement, is_expired, settlement_cash
    from trimtab.venues.simulation.fees import FeeModel, Liquidity
    from trimtab.venues.simulation.funding import FundingModel
    from trimtab.venues.simulation.margin import Liquidation, MarginModel
    from trimtab.venues.simulation.models import RealityModels
    from trimtab.venues.simulation.slippage import ConstantSlippage, SlippageModel, SquareRootImpact

__all__ = [
    "ConstantSlippage",
    "FeeModel",
    "FillReport",
    "FundingModel",
    "Liquidation",
    "Liquidity",
    "MarginModel",
    "PerpPosition",
    "RealityModels",
    "Settlement",
    "SimulatedAccount",
    "SlippageModel",
    "SquareRootImpact",
    "is_expired",
    "settlement_cash",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "trimtab.venues.simulation.account": ("FillReport", "PerpPosition", "SimulatedAccount"),
        "trimtab.venues.simulation.expiry": ("Settlement", "is_expired", "settlement_cash"),
        "trimtab.venues.simulation.fees": ("FeeModel", "Liquidity"),
        "trimtab.venues.simulation.funding": ("FundingModel",),
        "trimtab.venues.simulation.margin": ("Liquidation", "MarginModel"),
        "trimtab.venues.simulation.models": ("RealityModels",),
        "trimtab.venues.simulation.slippage": ("ConstantSlippage", "SlippageModel", "SquareRootImpact"),
    },
)
