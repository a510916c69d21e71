"""The cost model the planner prices trades with, and the ``auto`` choice between spot and a hedge.

Fees, slippage and funding are separate model objects so that a venue or a backtest can swap one
without touching the others. Every figure is in the base currency.

``auto`` compares, per class, for a signed change of exposure ``n`` (positive = buy):

* spot: ``|n| x (taker + slippage)``, plus, for a sale under ``[tax]``, the tax that the sale's lots realise
  (:mod:`~trimtab.planner.tax`);
* hedge: ``|n| x (taker + slippage)`` to open, the same again to close, plus the funding the new position
  pays over ``funding_horizon_days``: ``n x funding_rate x 24 / interval_hours x days``. Positive funding
  means longs pay shorts, so a short hedge *receives* it (a negative cost).

The hedge is chosen only when it is strictly cheaper; a tie goes to spot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from trimtab.domain.instruments import parse_symbol
from trimtab.domain.market import DerivativeQuote
from trimtab.domain.plan import Trade
from trimtab.policy.config import CostsConfig

Route = Literal["spot", "hedge"]


@dataclass(frozen=True, slots=True)
class FeeModel:
    """Exchange fees as a fraction of notional, per instrument kind for the expected fill.

    ``taker`` is the rate of any kind missing from ``by_kind`` (``[costs] fill`` decides which rate
    ``by_kind`` holds: taker or maker).
    """

    taker: float
    maker: float = 0.0
    by_kind: Mapping[str, float] = field(default_factory=dict)

    def fee(self, notional: float, kind: str = "spot") -> float:
        """The fee on ``|notional|`` of an order on an instrument ``kind``."""
        return self.by_kind.get(kind, self.taker) * abs(notional)


@dataclass(frozen=True, slots=True)
class SlippageModel:
    """A linear slippage estimate: ``bps / 1e4`` of notional."""

    bps: float

    def cost(self, notional: float) -> float:
        """The expected slippage on ``|notional|``."""
        return self.bps / 10000.0 * abs(notional)


@dataclass(frozen=True, slots=True)
class FundingModel:
    """Funding a position pays over a holding horizon at the snapshot's rate."""

    horizon_days: float

    def cost(self, signed_notional: float, quote: DerivativeQuote) -> float:
        """Funding paid over the horizon by a position of ``signed_notional`` (negative = received)."""
        return signed_notional * quote.funding_per_day * self.horizon_days


SaleTax = Callable[[Sequence[Trade]], float]
"""The tax that a set of spot sales would realise (the plan binds the lots, the rules and the time)."""


@dataclass(frozen=True, slots=True)
class CostModel:
    """Fees, slippage and funding together, and the tax of spot sales when the policy has ``[tax]``."""

    fees: FeeModel
    slippage: SlippageModel
    funding: FundingModel
    sale_tax: SaleTax | None = None

    @classmethod
    def from_config(cls, costs: CostsConfig) -> CostModel:
        """The model a policy's ``[costs]`` table describes."""
        kinds = ("spot", "perp", "future", "option")
        return cls(
            FeeModel(costs.fee_rate("spot"), costs.maker_fee, {kind: costs.fee_rate(kind) for kind in kinds}),
            SlippageModel(costs.fill_slippage * 10000.0),
            FundingModel(costs.funding_horizon_days),
        )

    def trading_cost(self, notional: float, kind: str = "spot") -> float:
        """Fee plus slippage of one order of ``|notional|`` on an instrument ``kind``."""
        return self.fees.fee(notional, kind) + self.slippage.cost(notional)

    def spot_cost(self, notional: float) -> float:
        """Cost of moving ``notional`` of exposure with spot."""
        return self.trading_cost(notional, "spot")

    def hedge_cost(self, notional: float, quote: DerivativeQuote, kind: str = "perp") -> HedgeCost:
        """Cost of moving ``notional`` (signed) of exposure with a derivative held over the horizon."""
        return HedgeCost(2.0 * self.trading_cost(notional, kind), self.funding.cost(notional, quote))


@dataclass(frozen=True, slots=True)
class HedgeCost:
    """A hedge's cost: opening and closing (fees and slippage), and funding over the horizon."""

    trading: float
    funding: float

    @property
    def total(self) -> float:
        return self.trading + self.funding


@dataclass(frozen=True, slots=True)
class InstrumentChoice:
    """The ``auto`` mode's decision for one class, with the figures behind it."""

    route: Route
    spot_cost: float
    hedge: HedgeCost
    note: str
    spot_tax: float = 0.0


def choose_instrument(
    class_name: str,
    notional: float,
    hedge_symbol: str,
    quote: DerivativeQuote,
    model: CostModel,
    spot_tax: float = 0.0,
) -> InstrumentChoice:
    """Choose spot or the hedge for a signed exposure change ``notional``, whichever costs less.

    Parameters
    ----------
    class_name:
        The class, for the note.
    notional:
        Signed change of the class's net exposure in the base currency (positive = buy).
    hedge_symbol:
        The derivative the hedge would trade, for the note.
    quote:
        That derivative's quote (its funding rate and interval).
    model:
        The cost model.
    spot_tax:
        The tax the spot sale would realise (0 for a buy, or without ``[tax]``); part of spot's cost.

    Returns
    -------
    InstrumentChoice
        ``"hedge"`` only when strictly cheaper than spot; the note gives both costs.
    """
    trading = model.spot_cost(notional)
    spot = trading + spot_tax
    hedge = model.hedge_cost(notional, quote, _kind(hedge_symbol))
    route: Route = "hedge" if hedge.total < spot else "spot"
    days = model.funding.horizon_days
    chosen = f"{hedge_symbol}" if route == "hedge" else "spot"
    note = (
        f"auto: {class_name} uses {chosen}: hedge cost {hedge.total:.2f} "
        f"(fees and slippage to open and close {hedge.trading:.2f}, funding {hedge.funding:+.2f} over {days:g} days) "
        f"vs spot cost {spot:.2f}"
    )
    if spot_tax != 0.0:
        note += f" (fees and slippage {trading:.2f}, tax {spot_tax:.2f})"
    note += f" for {abs(notional):.2f} of exposure"
    return InstrumentChoice(route, spot, hedge, note, spot_tax)


def _kind(symbol: str) -> str:
    """The instrument kind of a hedge symbol (``perp`` or ``future``); ``perp`` for a name that is no symbol."""
    try:
        return parse_symbol(symbol).kind.value
    except ValueError:
        return "perp"
