"""The measured holding time of a hedge symbol, weighted by notional: worked by hand, and its invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trimtab.domain import DerivativePosition, parse_symbol
from trimtab.session import SessionState
from trimtab.session.holding import HoldRecord, entry_notional

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
PERP = "BTC/USDT:USDT"


def _perp(amount: float, entry: float) -> DerivativePosition:
    return DerivativePosition(parse_symbol(PERP), amount, entry, 2.0)


def _cycle(state: SessionState, now: datetime, *held: DerivativePosition) -> SessionState:
    return state.advanced(now, checked=False, rebalanced=False, equity_before=1.0, equity_after=1.0, held=held)


def test_opened_at_n_reduced_halfway_after_d1_and_closed_after_d2() -> None:
    # 40 short at 100 (N = 4 000), halved after d1 = 6 days, closed after d2 = 20 days:
    # (4 000 x 6 + 2 000 x 14) / 4 000 = 52 000 / 4 000 = 13 days = (6 + 20) / 2.
    record = HoldRecord().moved(-40.0, 4_000.0, T0)
    record = record.moved(-20.0, 2_000.0, T0 + 6 * DAY)
    assert record.hold_days(T0 + 6 * DAY) == pytest.approx(6.0)
    assert record.hold_days(T0 + 10 * DAY) == pytest.approx((24_000.0 + 2_000.0 * 4) / 4_000.0)  # open: 8 so far
    record = record.moved(0.0, 0.0, T0 + 20 * DAY)
    assert record.hold_days(T0 + 500 * DAY) == pytest.approx(13.0)
    assert (record.opened, record.notional_days) == (pytest.approx(4_000.0), pytest.approx(52_000.0))


def test_a_hedge_cut_to_a_tenth_weighs_its_days_by_what_was_left_open() -> None:
    # 100 at 50 (5 000) for 7 days, then 10 (500) for 365 more: (5 000 x 7 + 500 x 365) / 5 000 = 7 + 36.5.
    state = _cycle(SessionState(), T0, _perp(-100.0, 50.0))
    state = _cycle(state, T0 + 7 * DAY, _perp(-10.0, 50.0))
    state = _cycle(state, T0 + 372 * DAY)
    assert state.measured_hold_days(T0 + 372 * DAY) == {PERP: pytest.approx(43.5)}


def test_a_top_up_is_a_piece_weighted_by_its_own_price() -> None:
    # 10 at 100 (1 000) on day 0; 10 more at 300 on day 4: 4 000 of entry notional at the average price 200;
    # closed on day 10: 1 000 held 10 days, 3 000 held 6, (10 000 + 18 000) / 4 000 = 7 days.
    state = _cycle(SessionState(), T0, _perp(10.0, 100.0))
    state = _cycle(state, T0 + 4 * DAY, _perp(20.0, 200.0))
    state = _cycle(state, T0 + 10 * DAY)
    assert state.measured_hold_days(T0 + 10 * DAY) == {PERP: pytest.approx(7.0)}


def test_a_tiny_hedge_held_long_does_not_outweigh_a_large_one_held_briefly() -> None:
    # 1 at 100 (100) for 300 days; then 100 at 100 (10 000) for 2 days: (30 000 + 20 000) / 10 100 = 4.95 days.
    state = _cycle(SessionState(), T0, _perp(-1.0, 100.0))
    state = _cycle(state, T0 + 300 * DAY)
    state = _cycle(state, T0 + 301 * DAY, _perp(-100.0, 100.0))
    state = _cycle(state, T0 + 303 * DAY)
    assert state.measured_hold_days(T0 + 303 * DAY) == {PERP: pytest.approx(50_000.0 / 10_100.0)}


def test_the_weight_of_an_inverse_or_option_position_is_its_amount() -> None:
    inverse = DerivativePosition(parse_symbol("BTC/USD:BTC"), -30.0, 50_000.0)
    option = DerivativePosition(parse_symbol("BTC/USDT:USDT-261225-60000-C"), 2.0, 1_500.0)
    assert (entry_notional(inverse), entry_notional(option), entry_notional(_perp(-2.0, 50.0))) == (30.0, 2.0, 100.0)


def test_a_price_move_without_a_trade_changes_nothing() -> None:
    state = _cycle(SessionState(), T0, _perp(-10.0, 100.0))
    # the venue reports another entry price for the same amount: no trade, the record stays as it is
    assert _cycle(state, T0 + DAY, _perp(-10.0, 130.0)).holds is state.holds


hedges = st.lists(
    st.tuples(
        st.floats(min_value=1.0, max_value=1e6),  # notional (amount 1 at this entry price)
        st.integers(min_value=1, max_value=400),  # days held
        st.integers(min_value=0, max_value=30),  # days until the next one
    ),
    min_size=1,
    max_size=8,
)


def _measured(sequence: list[tuple[float, int, int]]) -> float:
    state, now = SessionState(), T0
    for notional, days, gap in sequence:
        state = _cycle(state, now, _perp(-1.0, notional))
        now += days * DAY
        state = _cycle(state, now)
        now += gap * DAY
    return state.measured_hold_days(now)[PERP]


@given(hedges)
def test_the_weighted_hold_lies_between_the_shortest_and_longest_hedge(sequence: list[tuple[float, int, int]]) -> None:
    lives = [days for _, days, _ in sequence]
    held = _measured(sequence)
    assert min(lives) * (1 - 1e-9) <= held <= max(lives) * (1 + 1e-9)
    expected = sum(n * d for n, d, _ in sequence) / sum(n for n, _, _ in sequence)
    assert held == pytest.approx(expected, rel=1e-9)


@given(hedges, st.floats(min_value=1.0, max_value=1e6))
def test_equal_notionals_give_the_plain_mean(sequence: list[tuple[float, int, int]], notional: float) -> None:
    same = [(notional, days, gap) for _, days, gap in sequence]
    assert _measured(same) == pytest.approx(sum(d for _, d, _ in same) / len(same), rel=1e-9)


steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=60),  # days since the last change
        st.floats(min_value=-0.9, max_value=2.0),  # the change, as a share of the amount held (> -1: still open)
        st.floats(min_value=50.0, max_value=500.0),  # the price an increase fills at
    ),
    max_size=6,
)


@given(st.floats(min_value=50.0, max_value=500.0), steps, st.integers(min_value=1, max_value=60))
def test_reductions_retire_a_share_of_every_piece(
    price: float, changes: list[tuple[int, float, float]], last: int
) -> None:
    # Worked piece by piece, as the venue's average entry price implies: an increase opens a piece at its fill
    # price; a reduction by a share f retires f of every open piece then.
    pieces: list[list[float]] = [[price, 0.0]]  # [notional still open, day opened]
    opened, retired = price, 0.0  # the notional opened; sum of notional x days of what was retired
    amount, entry, day = 1.0, price, 0.0
    state = _cycle(SessionState(), T0, _perp(-amount, entry))
    for gap, share, fill in changes:
        day += gap
        if share >= 0:
            pieces.append([share * amount * fill, day])
            opened += share * amount * fill
            entry = (amount * entry + share * amount * fill) / (amount * (1 + share))
        else:
            for piece in pieces:
                retired += -share * piece[0] * (day - piece[1])
                piece[0] *= 1 + share
        amount *= 1 + share
        state = _cycle(state, T0 + day * DAY, _perp(-amount, entry))
    day += last
    state = _cycle(state, T0 + day * DAY)
    retired += sum(n * (day - start) for n, start in pieces)
    assert state.measured_hold_days(T0 + day * DAY)[PERP] == pytest.approx(retired / opened, rel=1e-6)
