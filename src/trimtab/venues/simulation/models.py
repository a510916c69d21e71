"""The set of reality models one simulated exchange uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from trimtab.policy.config import CostsConfig
from trimtab.venues.simulation.fees import FeeModel
from trimtab.venues.simulation.funding import FundingModel
from trimtab.venues.simulation.margin import MarginModel
from trimtab.venues.simulation.slippage import ConstantSlippage, SlippageModel, SquareRootImpact


@dataclass(frozen=True)
class RealityModels:
    """Fees, slippage, funding and margin of a simulated exchange."""

    fees: FeeModel = field(default_factory=FeeModel)
    slippage: SlippageModel = field(default_factory=ConstantSlippage)
    funding: FundingModel = field(default_factory=FundingModel)
    margin: MarginModel = field(default_factory=MarginModel)

    @classmethod
    def from_costs(cls, costs: CostsConfig, *, impact: float = 0.0) -> RealityModels:
        """Models from a policy's ``[costs]``: its fees, and ``slippage_bps`` as the half-spread.

        ``impact`` > 0 adds square-root market impact on the bar's volume (see
        :mod:`trimtab.venues.simulation.slippage`); 0 keeps slippage constant.
        """
        slippage: SlippageModel
        if impact > 0.0:
            slippage = SquareRootImpact(half_spread_bps=costs.slippage_bps, impact=impact)
        else:
            slippage = ConstantSlippage(costs.slippage_bps)
        return cls(fees=FeeModel(taker=costs.taker_fee, maker=costs.maker_fee), slippage=slippage)
