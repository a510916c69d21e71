"""The funding monitor: a perpetual hedge that costs more in funding than the spot alternative goes to spot.

Both sides are watched. A position of signed size ``a`` at mark ``m`` pays ``a x m x r`` a day at the daily
funding rate ``r`` (longs pay when ``r`` > 0, shorts when ``r`` < 0). Over the hedge's **expected holding
time** ``H`` that is the hedge's cost; the spot alternative costs a round trip, ``2 x (taker_fee + slippage)
x notional``, plus, for a short hedge replaced by a sale, the tax the sale realises on the open lots (with a
``[tax]`` section). ``H`` is ``funding_horizon_days`` when that is a number (exactly, as the contract says).
When it is ``"auto"``, ``H`` is the planner's horizon for the hedge's symbol (:mod:`trimtab.planner.horizon`):
the notional-weighted holding time the session measured on that symbol (:mod:`trimtab.session.holding`), else
the expected time its class's weight takes to drift across its band, else the fallback week
(:data:`trimtab.planner.horizon.FALLBACK_DAYS`); another symbol's hedges never stand in for it. A hedge held
for ``d`` days is expected to be held at least ``d`` more: ``H = max(d, horizon)``.

When the hedge costs more, it is replaced by spot: a short hedge by selling the coin (as much as is held), a
long perpetual by buying it (as much as the cash allows), and a ``funding`` decision says so. New hedges in
a plan are checked before they are sent, open ones every cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.lots import LotBook
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Side, Trade
from trimtab.domain.portfolio import Portfolio
from trimtab.planner.horizon import FALLBACK_DAYS
from trimtab.planner.tax import sale_tax
from trimtab.policy.config import Policy
from trimtab.session.deleverage import reducing_trade
from trimtab.valuation.model import Valuation


def expected_hold_days(
    symbol: str, policy: Policy, ages: Mapping[str, float], horizons: Mapping[str, float] | None = None
) -> float:
    """The holding time a hedge on ``symbol`` is expected to have, in days (see the module).

    ``horizons`` holds the ``"auto"`` horizon per hedge symbol (measured, else from the class's drift); a symbol
    absent takes the fallback week.
    """
    fixed = policy.costs.fixed_horizon_days
    if fixed is not None:
        return fixed
    horizon = horizons.get(symbol, FALLBACK_DAYS) if horizons else FALLBACK_DAYS
    return max(ages[symbol], horizon) if symbol in ages else horizon


@dataclass
class _Book:
    """What the switches may still use: coins to sell, cash to buy with."""

    spot: dict[str, float]
    base: str
    cost_factor: float
    lots: LotBook | None = None
    sold: list[Trade] = field(default_factory=list)

    def sellable(self, asset: str) -> float:
        return max(self.spot.get(asset, 0.0), 0.0)

    def buyable(self, price: float) -> float:
        return max(self.spot.get(self.base, 0.0), 0.0) / (price * self.cost_factor)


def _spot_trade(
    class_name: str,
    asset: str,
    base: str,
    side: Side,
    amount: float,
    price: float,
    reason: str,
    venue: str = "default",
) -> Trade:
    return Trade(
        class_name,
        f"{asset}/{base}",
        InstrumentKind.SPOT,
        side,
        amount,
        amount * price,
        price,
        venue,
        False,
        reason,
    )


class _Monitor:
    """Checks hedges one by one against the spot alternative; the coins and cash left to switch with are
    worked out only once a hedge costs more in funding than a spot round trip (most cycles none does)."""

    def __init__(
        self,
        portfolio: Portfolio,
        market: MarketSnapshot,
        policy: Policy,
        ages: Mapping[str, float],
        lots: LotBook | None,
        horizons: Mapping[str, float] | None = None,
    ) -> None:
        self.market, self.policy, self.ages, self.horizons = market, policy, ages, horizons
        self.portfolio = portfolio
        self.round_trip = 2.0 * (policy.costs.taker_fee + policy.costs.slippage)
        self.lots = lots
        self._book: _Book | None = None
        self._pending: list[Trade] = []
        self.reasons: list[str] = []

    @property
    def book(self) -> _Book:
        if self._book is None:
            costs = self.policy.costs
            spot = dict(self.portfolio.spot_totals)
            self._book = _Book(spot, self.policy.base_currency, 1.0 + costs.taker_fee + costs.slippage, self.lots)
            self._apply(self._pending)
            self._pending = []
        return self._book

    def spend(self, trades: Sequence[Trade]) -> None:
        """What the spot orders in ``trades`` leave to sell and to buy with."""
        if self._book is None:
            self._pending.extend(trades)
        else:
            self._apply(trades)

    def _apply(self, trades: Sequence[Trade]) -> None:
        book = self.book
        for t in trades:
            if t.instrument is not InstrumentKind.SPOT:
                continue
            asset = parse_symbol(t.symbol).base
            signed = t.signed_amount()
            book.spot[asset] = book.spot.get(asset, 0.0) + signed
            book.spot[book.base] = book.spot.get(book.base, 0.0) - signed * t.price

    def _tax(self, asset: str, amount: float, price: float, now: datetime) -> float:
        rules = self.policy.tax_rules()
        if rules is None or self.book.lots is None or amount <= 0:
            return 0.0
        sale = _spot_trade("", asset, self.book.base, Side.SELL, amount, price, "")
        return sale_tax([sale], self.book.lots, rules, now)

    def switch(
        self, class_name: str, symbol: str, signed: float, mark: float, opening: bool
    ) -> tuple[float, Trade | None, str]:
        """How much of a hedge of ``signed`` units to replace by spot (0 when it stays), the spot trade, why."""
        quote = self.market.derivatives.get(symbol)
        if quote is None or signed == 0:
            return 0.0, None, ""
        hold = expected_hold_days(symbol, self.policy, self.ages, self.horizons)
        notional = abs(signed) * mark
        funding = signed * mark * quote.funding_per_day * hold
        if funding <= self.round_trip * notional:
            return 0.0, None, ""  # cheaper than the round trip alone (a sale's tax only adds to spot's cost)
        asset = parse_symbol(symbol).base
        price = self.market.prices.get(asset)
        if price is None:
            return 0.0, None, ""
        short = signed < 0
        amount = min(abs(signed), self.book.sellable(asset) if short else self.book.buyable(price))
        spot_cost = self.round_trip * notional + (
            self._tax(asset, amount, price, self.market.timestamp) if short else 0.0
        )
        if funding <= spot_cost or amount * price < max(self.policy.rebalance.min_notional, 1e-9):
            return 0.0, None, ""
        side = Side.SELL if short else Side.BUY
        self.spend([_spot_trade(class_name, asset, self.book.base, side, amount, price, "")])
        what = "a new" if opening else "the"
        kind = "short hedge" if short else "long perpetual"
        verb = "selling" if short else "buying"
        reason = (
            f"{symbol}: {what} {kind} would pay {funding:.2f} of funding over an expected {hold:g} d, more than the "
            f"{spot_cost:.2f} the spot alternative costs; {verb} {amount:g} {asset} spot instead"
            + ("" if amount >= abs(signed) - 1e-12 else f" (keeping {abs(signed) - amount:g} on the perpetual)")
        )
        self.reasons.append(reason)
        # the account that holds the asset (else the base currency) is where its spot order goes
        held = any(h.asset == asset and h.amount > 0.0 for h in self.portfolio.spot)
        venue = self.portfolio.venue_of(asset if held else self.book.base)
        return amount, _spot_trade(class_name, asset, self.book.base, side, amount, price, reason, venue), reason


def funding_switch(
    trades: Sequence[Trade],
    portfolio: Portfolio,
    valuation: Valuation,
    market: MarketSnapshot,
    policy: Policy,
    ages: Mapping[str, float] | None = None,
    lots: LotBook | None = None,
    horizons: Mapping[str, float] | None = None,
) -> tuple[list[Trade], list[str]]:
    """Replace perpetual hedges (long or short) whose expected funding exceeds the spot alternative by spot.

    Parameters
    ----------
    ages:
        Days each open hedge has been held (the session's record), for the expected holding time.
    lots:
        The open tax lots, for the tax a replacing sale would realise.
    horizons:
        The ``"auto"`` horizon of each hedge symbol, in days (:func:`expected_hold_days`).

    Returns
    -------
    tuple[list[Trade], list[str]]
        The trades to execute (the plan's, changed where a hedge was replaced, plus switches of open hedges)
        and one sentence per replacement.
    """
    monitor = _Monitor(portfolio, market, policy, ages or {}, lots, horizons)
    monitor.spend(trades)
    perps = [t for t in trades if t.instrument is InstrumentKind.PERP]
    replaced: dict[int, tuple[Trade, ...]] = {}
    for t in perps:
        if t.reduce_only:
            continue
        amount, spot, reason = monitor.switch(t.class_name, t.symbol, t.signed_amount(), t.price, opening=True)
        if spot is None:
            continue
        rest = t.amount - amount
        kept = Trade(
            t.class_name, t.symbol, t.instrument, t.side, rest, rest * t.price, t.price, t.venue, False, t.reason
        )
        replaced[id(t)] = (spot, kept) if rest > 1e-12 else (spot,)
    # nothing replaced: the very list given, so a caller can tell that nothing changed
    out = list(trades) if not isinstance(trades, list) else trades
    if replaced:
        out = [leg for t in trades for leg in replaced.get(id(t), (t,))]
    traded = {t.symbol for t in perps}
    for p in valuation.positions:
        if p.instrument.kind is not InstrumentKind.PERP or p.symbol in traded:
            continue
        amount, spot, reason = monitor.switch(p.class_name, p.symbol, p.amount, p.mark, opening=False)
        if spot is None:
            continue
        if out is trades:
            out = list(trades)
        out.append(reducing_trade(p, amount, reason, venue="default"))
        out.append(spot)
    return out, monitor.reasons
