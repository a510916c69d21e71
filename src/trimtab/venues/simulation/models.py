"""The set of reality models one simulated exchange uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from trimtab.policy.config import CostsConfig
from trimtab.venues.simulation.fees import FeeModel, Liquidity
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
    backtest_fill: Liquidity = Liquidity.TAKER
    """The liquidity a backtest's orders take (``[costs] fill``): a maker fill rests at the reference price."""

    @classmethod
    def from_costs(cls, costs: CostsConfig, *, impact: float | None = None) -> RealityModels:
        """Models from a policy's ``[costs]``: its fees (per instrument kind), ``slippage_bps`` as the
        half-spread, and its slippage model.

        ``impact`` > 0 adds square-root market impact on the bar's volume (see
        :mod:`trimtab.venues.simulation.slippage`); 0 keeps slippage constant; None follows the policy's
        ``slippage_model`` and ``impact``.
        """
        if impact is None:
            impact = costs.impact if costs.slippage_model == "square-root" else 0.0
        slippage: SlippageModel
        if impact > 0.0:
            slippage = SquareRootImpact(half_spread_bps=costs.slippage_bps, impact=impact)
        else:
            slippage = ConstantSlippage(costs.slippage_bps)
        by_kind = tuple(
            (kind, rates.taker, rates.maker)
            for kind in ("spot", "perp", "future", "option")
            if costs.fees is not None and (rates := getattr(costs.fees, kind)) is not None
        )
        fees = FeeModel(taker=costs.taker_fee, maker=costs.maker_fee, by_kind=by_kind)
        return cls(fees=fees, slippage=slippage, backtest_fill=Liquidity(costs.fill))
