"""The cost model the planner prices trades with, and the ``auto`` choice between spot and a hedge.

Fees, slippage and funding are separate model objects so that a venue or a backtest can swap one
without touching the others. Every figure is in the base currency.

``auto`` compares, per class, for a signed change of exposure ``n`` (positive = buy):

* spot: ``|n| x (taker + slippage)``, plus, for a sale under ``[tax]``, the tax that the sale's lots realise
  (:mod:`~trimtab.planner.tax`);
* hedge: ``|n| x (taker + slippage)`` to open, the same again to close, plus the funding the new position
  pays over the horizon ``funding_horizon_days`` (a number of days, or ``"auto"``: estimated per class by
  :mod:`~trimtab.planner.horizon`): ``n x funding_rate x 24 / interval_hours x days``. Positive funding
  means longs pay shorts, so a short hedge *receives* it (a negative cost).

That is the contract's comparison, and the default. Two terms are opt-in, each behind its ``[costs]`` key; with
either set the plan carries a :class:`HedgeRisk` and the hedge also pays, over the holding time ``H``
(the same horizon):

* margin use (``margin_rate``, a year's rate, unset = 0): ``margin_rate x |n| / L x H / 365``, the initial
  margin at the policy's ``hedge_leverage`` ``L`` kept as collateral instead of earning that rate;
* liquidation risk (``liquidation_risk = true``): ``p x |n| x (m + taker + slippage)``, where ``m`` is the
  maintenance rate (the hedge's first margin tier, else 0.5 %), lost to the venue at a liquidation, plus one
  order to restore the exposure; ``p`` is the probability that a driftless random walk of the underlying's
  annual volatility ``sigma`` reaches the isolated liquidation price within ``H`` (reflection principle):
  ``p = 2 x Phi(-x / (sigma x sqrt(H / 365)))`` with ``x = ln((1 + 1/L) / (1 + m))`` for a short and
  ``x = -ln((1 - 1/L) / (1 - m))`` for a long (no liquidation, ``p = 0``, for a long at ``L <= 1``). ``sigma``
  is the plan's volatility of the hedged asset (realised over the policy's lookback in backtests and runs),
  else 80 %, crypto's typical figure.

Without them, margin and liquidation risk are constraints, not costs: the planner refuses a hedge that the
accounts' margin cannot carry or that would open inside the liquidation buffer (:mod:`trimtab.planner.hedge_limits`).

The hedge is chosen only when it is strictly cheaper; a tie goes to spot.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

from trimtab.domain.instruments import parse_symbol
from trimtab.planner.horizon import FALLBACK_DAYS
from trimtab.policy.config import CostsConfig

if TYPE_CHECKING:  # annotations only: a backtest's costs load no plan or quote module
    from trimtab.domain.market import DerivativeQuote
    from trimtab.domain.plan import Trade

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
    by_symbol: Mapping[str, float] = field(default_factory=dict)
    """Per hedge symbol, the horizon that replaces :attr:`horizon_days` (``funding_horizon_days = "auto"``)."""

    def days(self, symbol: str | None = None) -> float:
        """The horizon of a hedge on ``symbol``, in days."""
        return self.by_symbol.get(symbol, self.horizon_days) if symbol is not None else self.horizon_days

    def cost(self, signed_notional: float, quote: DerivativeQuote, symbol: str | None = None) -> float:
        """Funding paid over the horizon by a position of ``signed_notional`` (negative = received)."""
        return signed_notional * quote.funding_per_day * self.days(symbol)


DEFAULT_VOLATILITY = 0.80
"""Annual volatility assumed for a hedged asset without an estimate (crypto's typical figure)."""
DEFAULT_MAINTENANCE = 0.005
"""Maintenance margin rate of a derivative without margin tiers (the account model's default)."""


def hit_probability(distance: float, volatility: float, days: float) -> float:
    """Probability that a driftless random walk in log price moves ``distance`` (> 0) against the position
    within ``days``, at annual ``volatility``: ``2 x Phi(-distance / (volatility x sqrt(days / 365)))``."""
    if not math.isfinite(distance):
        return 0.0
    if distance <= 0.0:
        return 1.0
    scale = volatility * math.sqrt(max(days, 0.0) / 365.0)
    if scale <= 0.0:
        return 0.0
    return math.erfc(distance / (scale * math.sqrt(2.0)))


def liquidation_distance(leverage: float, maintenance: float, short: bool) -> float:
    """Log distance from entry to the isolated liquidation price of a position at ``leverage``."""
    if short:
        return math.log((1.0 + 1.0 / leverage) / (1.0 + maintenance))
    if leverage <= 1.0:
        return math.inf
    return -math.log((1.0 - 1.0 / leverage) / (1.0 - maintenance))


@dataclass(frozen=True, slots=True)
class HedgeRisk:
    """What a hedge ties up and risks, priced only when the policy opts in: its leverage, the yearly rate margin
    could earn (0: no margin-use term), whether the expected liquidation loss counts, and volatilities."""

    leverage: float
    margin_rate: float
    volatility: Mapping[str, float] = field(default_factory=dict)
    maintenance: Mapping[str, float] = field(default_factory=dict)
    liquidation: bool = False

    def sigma(self, asset: str) -> tuple[float, bool]:
        """The asset's annual volatility and whether it was estimated (else the default)."""
        value = self.volatility.get(asset)
        if value is None or not math.isfinite(value) or value <= 0.0:
            return DEFAULT_VOLATILITY, False
        return value, True


SaleTax: TypeAlias = "Callable[[Sequence[Trade]], float]"
"""The tax that a set of spot sales would realise (the plan binds the lots, the rules and the time)."""


@dataclass(frozen=True, slots=True)
class CostModel:
    """Fees, slippage and funding together, and the tax of spot sales when the policy has ``[tax]``."""

    fees: FeeModel
    slippage: SlippageModel
    funding: FundingModel
    sale_tax: SaleTax | None = None
    risk: HedgeRisk | None = None

    @classmethod
    def from_config(cls, costs: CostsConfig) -> CostModel:
        """The model a policy's ``[costs]`` table describes."""
        kinds = ("spot", "perp", "future", "option")
        return cls(
            FeeModel(costs.fee_rate("spot"), costs.maker_fee, {kind: costs.fee_rate(kind) for kind in kinds}),
            SlippageModel(costs.fill_slippage * 10000.0),
            FundingModel(costs.fixed_horizon_days if costs.fixed_horizon_days is not None else FALLBACK_DAYS),
        )

    def rate(self, kind: str = "spot") -> float:
        """Fee plus slippage per unit of notional of an order on an instrument ``kind``."""
        return self.fees.fee(1.0, kind) + self.slippage.cost(1.0)

    def trading_cost(self, notional: float, kind: str = "spot") -> float:
        """Fee plus slippage of one order of ``|notional|`` on an instrument ``kind``."""
        return self.fees.fee(notional, kind) + self.slippage.cost(notional)

    def spot_cost(self, notional: float) -> float:
        """Cost of moving ``notional`` of exposure with spot."""
        return self.trading_cost(notional, "spot")

    def hedge_cost(
        self, notional: float, quote: DerivativeQuote, kind: str = "perp", symbol: str | None = None
    ) -> HedgeCost:
        """Cost of moving ``notional`` (signed) of exposure with a derivative held over the horizon.

        With :attr:`risk` and the hedge's ``symbol``, the margin it ties up and its liquidation risk count too.
        """
        trading = 2.0 * self.trading_cost(notional, kind)
        funding = self.funding.cost(notional, quote, symbol)
        if self.risk is None or symbol is None:
            return HedgeCost(trading, funding)
        risk, days = self.risk, self.funding.days(symbol)
        margin = risk.margin_rate * abs(notional) / risk.leverage * days / 365.0
        if not risk.liquidation:
            return HedgeCost(trading, funding, margin)
        maintenance = risk.maintenance.get(symbol, DEFAULT_MAINTENANCE)
        sigma, estimated = risk.sigma(_base(symbol))
        distance = liquidation_distance(risk.leverage, maintenance, notional < 0.0)
        chance = hit_probability(distance, sigma, days)
        loss = abs(notional) * maintenance + self.trading_cost(notional, "spot")
        return HedgeCost(trading, funding, margin, chance * loss, chance, sigma, estimated)


@dataclass(frozen=True, slots=True)
class HedgeCost:
    """A hedge's cost: opening and closing (fees and slippage), funding over the horizon, the margin it ties
    up and its expected liquidation loss (``liquidation_chance`` at volatility ``sigma``)."""

    trading: float
    funding: float
    margin: float = 0.0
    liquidation: float = 0.0
    liquidation_chance: float = 0.0
    sigma: float = 0.0
    sigma_estimated: bool = False

    @property
    def total(self) -> float:
        return self.trading + self.funding + self.margin + self.liquidation


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
    refused: str | None = None,
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
    refused:
        Why the hedge may not be taken however cheap (margin, liquidation buffer), or None.

    Returns
    -------
    InstrumentChoice
        ``"hedge"`` only when strictly cheaper than spot and not refused; the note gives both costs.
    """
    trading = model.spot_cost(notional)
    spot = trading + spot_tax
    hedge = model.hedge_cost(notional, quote, _kind(hedge_symbol), hedge_symbol)
    route: Route = "hedge" if hedge.total < spot else "spot"
    days = model.funding.days(hedge_symbol)
    if route == "hedge" and refused is not None:
        route, chosen = "spot", f"spot: the hedge {hedge_symbol} costs less but is refused, {refused}"
    else:
        chosen = f"{hedge_symbol}" if route == "hedge" else "spot"
    note = (
        f"auto: {class_name} uses {chosen}: hedge cost {hedge.trading + hedge.funding:.2f} "
        f"(fees and slippage to open and close {hedge.trading:.2f}, funding {hedge.funding:+.2f} over {days:g} days"
        f") vs spot cost {spot:.2f}"
    )
    if spot_tax != 0.0:
        note += f" (fees and slippage {trading:.2f}, tax {spot_tax:.2f})"
    note += f" for {abs(notional):.2f} of exposure{_risk_clause(hedge, model.risk)}"
    return InstrumentChoice(route, spot, hedge, note, spot_tax)


def _risk_clause(hedge: HedgeCost, risk: HedgeRisk | None) -> str:
    """The opt-in terms, when the policy prices any: each one's figure, and the total compared."""
    if risk is None:
        return ""
    terms = []
    if risk.margin_rate > 0.0:
        terms.append(f"margin use {hedge.margin:.2f} ({risk.margin_rate:.1%} a year on 1/{risk.leverage:g} of it)")
    if risk.liquidation:
        source = "estimated" if hedge.sigma_estimated else "assumed"
        terms.append(
            f"liquidation risk {hedge.liquidation:.2f} ({hedge.liquidation_chance:.1%} chance at "
            f"{risk.leverage:g}x, {source} volatility {hedge.sigma:.0%})"
        )
    if not terms:
        return ""
    return f"; with the hedge's {' and '.join(terms)} the hedge costs {hedge.total:.2f}"


def _base(symbol: str) -> str:
    try:
        return parse_symbol(symbol).base
    except ValueError:
        return symbol


def _kind(symbol: str) -> str:
    """The instrument kind of a hedge symbol (``perp`` or ``future``); ``perp`` for a name that is no symbol."""
    try:
        return parse_symbol(symbol).kind.value
    except ValueError:
        return "perp"
