"""Applying a plan to a portfolio at the snapshot's prices: the reference fill model.

Every order fills in full at its price at the snapshot (spot at ``prices``, derivatives at their ``mark``)
and pays ``taker_fee x notional`` from the base-currency balance on the order's venue. Slippage is an
estimate only and is not charged here. Derivative accounting follows the venues:

* an order that adds to a position (or opens one) moves its entry price to the amount-weighted average
  (for inverse contracts, the harmonic average), so the position's unrealised PnL does not jump;
* an order that reduces a position realises the PnL of the part it closes into the settlement currency
  (the quote for linear contracts, the base coin for inverse ones); an order that goes through zero
  closes the whole position and opens the rest at the mark;
* a new position takes ``[rebalance] hedge_leverage``; an existing one keeps its leverage;
* an option order pays or receives its premium (``amount x mark``) in its quote currency;
* positions are kept per (symbol, account): an order trades the position on its own ``venue``; a position an
  order changes loses the venue-reported liquidation price it had (valuation computes a new one).

Transfers (:func:`apply_transfers`) move balances between accounts before any order.

The planner's property tests, the backtester's reference path and the paper venue all use this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from trimtab.domain.instruments import Instrument, InstrumentKind, parse_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Plan, Trade, Transfer
from trimtab.domain.portfolio import DerivativePosition, Portfolio, SpotHolding
from trimtab.planner.costs import CostModel
from trimtab.planner.units import contract_size, quote_price
from trimtab.policy.config import Policy

ZERO_AMOUNT = 1e-12
"""A position whose amount falls below this fraction of its size before the order is closed."""


@dataclass(slots=True)
class _Position:
    instrument: Instrument
    amount: float
    entry_price: float
    leverage: float
    venue: str
    liquidation_price: float | None = None


class _Book:
    """Mutable balances and positions while a plan is applied."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.base = portfolio.base_currency
        self.spot: dict[tuple[str, str], float] = {}
        for holding in portfolio.spot:
            key = (holding.asset, holding.venue)
            self.spot[key] = self.spot.get(key, 0.0) + holding.amount
        self.positions: dict[tuple[str, str], _Position] = {}
        for p in portfolio.derivatives:
            key = (p.symbol, p.venue)
            known = self.positions.get(key)
            if known is None:
                self.positions[key] = _Position(
                    p.instrument, p.amount, p.entry_price, p.leverage, p.venue, p.liquidation_price
                )
            else:
                self._add(known, p.amount, p.entry_price)

    def credit(self, asset: str, venue: str, amount: float) -> None:
        key = (asset, venue)
        self.spot[key] = self.spot.get(key, 0.0) + amount

    @staticmethod
    def _add(position: _Position, delta: float, price: float) -> None:
        """Grow a position (same sign) at ``price``, averaging its entry."""
        new_amount = position.amount + delta
        if position.instrument.is_inverse:
            position.entry_price = new_amount / (position.amount / position.entry_price + delta / price)
        else:
            position.entry_price = (position.amount * position.entry_price + delta * price) / new_amount
        position.amount = new_amount

    def portfolio(self, original: Portfolio) -> Portfolio:
        before = {(h.asset, h.venue) for h in original.spot}
        spot = tuple(
            SpotHolding(asset, amount, venue)
            for (asset, venue), amount in self.spot.items()
            if amount != 0.0 or (asset, venue) in before
        )
        derivatives = tuple(
            DerivativePosition(p.instrument, p.amount, p.entry_price, p.leverage, p.venue, p.liquidation_price)
            for p in self.positions.values()
            if p.amount != 0.0
        )
        return Portfolio(original.base_currency, spot, derivatives, original.accounts)


def _fill_spot(book: _Book, trade: Trade, market: MarketSnapshot) -> None:
    # A spot symbol is always BASE/QUOTE; splitting it is much cheaper than the full parser.
    asset, _, quote = trade.symbol.partition("/")
    base = book.base
    asset_price = market.price(asset, base)
    quote_value = market.price(quote, base)
    signed = trade.signed_amount()
    book.credit(asset, trade.venue, signed)
    book.credit(quote, trade.venue, -signed * asset_price / quote_value)


def _realise(book: _Book, position: _Position, closed: float, mark: float, market: MarketSnapshot) -> None:
    """Pay the PnL of ``closed`` (signed, same sign as the position) into the settlement currency."""
    instrument = position.instrument
    if instrument.is_inverse:
        coins = closed * contract_size(instrument.symbol, market) * (1.0 / position.entry_price - 1.0 / mark)
        book.credit(instrument.base, position.venue, coins)
        return
    pnl_in_quote = closed * (mark - position.entry_price)
    settle = instrument.settle or instrument.quote
    if settle == instrument.quote:
        book.credit(settle, position.venue, pnl_in_quote)
    else:
        # Settled in another currency than the quote: convert at the snapshot's prices.
        value = pnl_in_quote * quote_price(instrument, market, book.base)
        book.credit(settle, position.venue, value / market.price(settle, book.base))


def _fill_derivative(book: _Book, trade: Trade, market: MarketSnapshot, hedge_leverage: float) -> None:
    mark = market.derivatives[trade.symbol].mark
    delta = trade.signed_amount()
    key = (trade.symbol, trade.venue)
    position = book.positions.get(key)
    if position is None:
        instrument = parse_symbol(trade.symbol)
        position = _Position(instrument, 0.0, mark, hedge_leverage, trade.venue)
        book.positions[key] = position
    # The venue's liquidation price was for the position before this order.
    position.liquidation_price = None
    instrument = position.instrument
    if instrument.kind is InstrumentKind.OPTION:
        premium = delta * mark
        book.credit(instrument.quote, position.venue, -premium)
    if position.amount == 0.0:
        position.amount, position.entry_price = delta, mark
        return
    if (position.amount > 0.0) == (delta > 0.0):
        _Book._add(position, delta, mark)
        return
    size = abs(position.amount)
    closed = position.amount if abs(delta) >= size else -delta
    if instrument.kind is not InstrumentKind.OPTION:
        _realise(book, position, closed, mark, market)
    rest = position.amount + delta
    if abs(rest) <= ZERO_AMOUNT * max(size, abs(delta)):
        position.amount = 0.0
    elif (rest > 0.0) == (position.amount > 0.0):
        position.amount = rest
    else:
        position.amount, position.entry_price = rest, mark


def apply_transfers(portfolio: Portfolio, transfers: Iterable[Transfer]) -> Portfolio:
    """The portfolio after each transfer moved its amount between accounts (the input is not changed)."""
    transfers = tuple(transfers)
    if not transfers:
        return portfolio
    book = _Book(portfolio)
    for transfer in transfers:
        book.credit(transfer.asset, transfer.from_account, -transfer.amount)
        book.credit(transfer.asset, transfer.to_account, transfer.amount)
    return book.portfolio(portfolio)


def apply_trades(
    portfolio: Portfolio,
    trades: Iterable[Trade],
    market: MarketSnapshot,
    taker_fee: float | Callable[[float, str], float],
    hedge_leverage: float = 1.0,
) -> Portfolio:
    """The portfolio after ``trades`` fill in full at the snapshot (see the module for the accounting).

    Parameters
    ----------
    portfolio:
        Holdings before the trades.
    trades:
        Orders, applied in order.
    market:
        The snapshot; spot orders fill at ``prices``, derivative ones at their ``mark``.
    taker_fee:
        Fee rate; ``taker_fee x notional`` is paid from the base currency on each order's venue. Or a function
        ``(notional, instrument kind) -> fee`` (fees per instrument kind, :class:`~trimtab.planner.costs.FeeModel`).
    hedge_leverage:
        Leverage of positions the trades open.

    Returns
    -------
    Portfolio
        A new portfolio (the input is not changed).

    Raises
    ------
    KeyError
        If a traded asset or derivative has no price or quote in the snapshot.
    """
    book = _Book(portfolio)
    for trade in trades:
        if trade.instrument is InstrumentKind.SPOT:
            _fill_spot(book, trade, market)
        else:
            _fill_derivative(book, trade, market, hedge_leverage)
        fee = taker_fee(trade.notional, trade.instrument.value) if callable(taker_fee) else taker_fee * trade.notional
        book.credit(book.base, trade.venue, -fee)
    return book.portfolio(portfolio)


def apply_plan(portfolio: Portfolio, plan: Plan, market: MarketSnapshot, policy: Policy) -> Portfolio:
    """The portfolio after the plan's transfers and every trade of ``plan`` filled at the snapshot, fees paid.

    Returns
    -------
    Portfolio
        Holdings after the plan; the input portfolio is unchanged.
    """
    moved = apply_transfers(portfolio, plan.transfers)
    return apply_trades(
        moved, plan.trades, market, CostModel.from_config(policy.costs).fees.fee, policy.rebalance.hedge_leverage
    )
