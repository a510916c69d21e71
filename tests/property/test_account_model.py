"""Invariants of the account model, for any book: continuity of tiered margin, liquidation prices that
balance collateral and maintenance, and free collateral that never rises when a position is opened."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trimtab.domain import DerivativePosition, DerivativeQuote, MarketRules, MarketSnapshot, Portfolio, SpotHolding
from trimtab.domain import parse_symbol as sym
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.market import MarginTier
from trimtab.valuation import account_margins, maintenance_margin

NOW = datetime(2026, 11, 21, tzinfo=UTC)
PERPS = ("BTC/USDT:USDT", "ETH/USDT:USDT")


@st.composite
def tier_tables(draw: st.DrawFn) -> tuple[MarginTier, ...]:
    """Tables shaped like an exchange's: rising floors and rates, amounts that keep the margin continuous."""
    count = draw(st.integers(min_value=1, max_value=6))
    floors = [0.0]
    for _ in range(count - 1):
        floors.append(floors[-1] + draw(st.floats(min_value=1e3, max_value=5e7)))
    rate = draw(st.floats(min_value=0.001, max_value=0.01))
    tiers = [MarginTier(0.0, rate, 0.0, 125.0)]
    for floor in floors[1:]:
        previous = tiers[-1]
        new_rate = previous.rate + draw(st.floats(min_value=0.0005, max_value=0.05))
        # amount_k = amount_{k-1} + floor x (rate_k - rate_{k-1}): Binance's own construction.
        amount = previous.amount + floor * (new_rate - previous.rate)
        tiers.append(MarginTier(floor, new_rate, amount, max(previous.max_leverage / 2.0, 1.0)))
    return tuple(tiers)


@settings(max_examples=60, deadline=None)
@given(tiers=tier_tables(), pick=st.integers(min_value=0, max_value=5))
def test_maintenance_margin_is_continuous_across_tier_floors(tiers: tuple[MarginTier, ...], pick: int) -> None:
    floor = tiers[pick % len(tiers)].floor
    assume(floor > 0.0)
    below = maintenance_margin(floor * (1.0 - 1e-12), tiers)
    at = maintenance_margin(floor, tiers)
    assert at == pytest.approx(below, rel=1e-9, abs=1e-6)


def _market(marks: tuple[float, float], tiers: tuple[MarginTier, ...]) -> MarketSnapshot:
    quotes = {symbol: DerivativeQuote(mark) for symbol, mark in zip(PERPS, marks, strict=True)}
    return MarketSnapshot(
        NOW,
        {"BTC": marks[0], "ETH": marks[1]},
        quotes,
        markets={symbol: MarketRules(margin_tiers=tiers) for symbol in PERPS},
    )


positions = st.lists(
    st.tuples(
        st.sampled_from(PERPS),
        st.floats(min_value=-50.0, max_value=50.0).filter(lambda a: abs(a) > 1e-3),
        st.floats(min_value=0.7, max_value=1.3),
        st.sampled_from([1.0, 2.0, 5.0, 10.0, 20.0]),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda row: row[0],
)


def _book(
    rows: list[tuple[str, float, float, float]], usdt: float, mode: MarginMode, marks: tuple[float, float]
) -> Portfolio:
    account = Account("acct", "x", AccountKind.DERIVATIVES, mode, {"USDT": 1.0})
    derivatives = tuple(
        DerivativePosition(sym(symbol), amount, marks[PERPS.index(symbol)] * factor, leverage, "acct")
        for symbol, amount, factor, leverage in rows
    )
    return Portfolio("USDT", (SpotHolding("USDT", usdt, "acct"),), derivatives, (account,))


@settings(max_examples=80, deadline=None)
@given(
    rows=positions,
    usdt=st.floats(min_value=0.0, max_value=2e6),
    tiers=tier_tables(),
    btc=st.floats(min_value=1e3, max_value=2e5),
    eth=st.floats(min_value=100.0, max_value=1e4),
    mode=st.sampled_from([MarginMode.CROSS, MarginMode.ISOLATED]),
)
def test_the_liquidation_price_makes_collateral_meet_maintenance(
    rows: list[tuple[str, float, float, float]],
    usdt: float,
    tiers: tuple[MarginTier, ...],
    btc: float,
    eth: float,
    mode: MarginMode,
) -> None:
    marks = (btc, eth)
    book = _book(rows, usdt, mode, marks)
    result = account_margins(book, _market(marks, tiers))
    for index, (row, risk) in enumerate(zip(book.derivatives, result.positions, strict=True)):
        price = risk.liquidation_price
        if price is None or price == float("inf"):
            continue
        (before,) = result.accounts
        if before.at_liquidation and price == risk.mark:
            # No price solves it: the account is under its maintenance margin whatever this position's price,
            # so the position is liquidated now, at its mark (tests/unit/valuation/test_at_liquidation.py).
            assert before.collateral <= before.maintenance and risk.liquidation_distance == 0.0
            continue
        # Move only this position's price to the liquidation price (other prices unchanged) and value again.
        moved = list(marks)
        moved[PERPS.index(row.symbol)] = price
        again = account_margins(book, _market((moved[0], moved[1]), tiers))
        position = again.positions[index]
        if mode is MarginMode.CROSS:
            (account,) = again.accounts
            gap, scale = account.collateral - account.maintenance, max(account.maintenance, usdt, 1.0)
        else:
            margin = abs(row.amount) * row.entry_price / row.leverage
            gap = margin + position.unrealised_pnl - position.maintenance_margin
            scale = max(margin, position.maintenance_margin, 1.0)
        assert abs(gap) <= 1e-7 * scale


@settings(max_examples=80, deadline=None)
@given(
    rows=positions,
    usdt=st.floats(min_value=0.0, max_value=2e6),
    opening=st.floats(min_value=-30.0, max_value=30.0).filter(lambda a: abs(a) > 1e-3),
    leverage=st.sampled_from([1.0, 3.0, 10.0]),
    fee=st.sampled_from([0.0, 0.0005, 0.001]),
)
def test_free_collateral_never_rises_when_an_opening_is_added(
    rows: list[tuple[str, float, float, float]], usdt: float, opening: float, leverage: float, fee: float
) -> None:
    from trimtab.domain.instruments import InstrumentKind
    from trimtab.domain.plan import Side, Trade
    from trimtab.planner.apply import apply_trades

    marks = (60000.0, 3000.0)
    market = _market(marks, ())
    book = _book(rows, usdt, MarginMode.CROSS, marks)
    held = {p.symbol for p in book.derivatives}
    symbol = next((s for s in PERPS if s not in held), None)
    assume(symbol is not None)
    assert symbol is not None
    mark = marks[PERPS.index(symbol)]
    side = Side.BUY if opening > 0 else Side.SELL
    trade = Trade("X", symbol, InstrumentKind.PERP, side, abs(opening), abs(opening) * mark, mark, "acct")
    after = apply_trades(book, (trade,), market, fee, leverage)
    before_free = account_margins(book, market).account("acct").free_collateral
    after_free = account_margins(after, market).account("acct").free_collateral
    assert after_free <= before_free + 1e-9 * max(1.0, abs(before_free))
    # By exactly its initial margin and its fee (it opens at the mark, so no PnL).
    expected = before_free - abs(opening) * mark / leverage - fee * abs(opening) * mark
    assert after_free == pytest.approx(expected, rel=1e-9, abs=1e-6)
