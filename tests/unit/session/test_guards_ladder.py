"""The deleveraging ladder and the two-sided funding monitor of the session's guards."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from trimtab.domain import DerivativePosition, DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding, parse_symbol
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.plan import Side
from trimtab.planner.apply import apply_trades
from trimtab.policy.config import Policy
from trimtab.session.deleverage import deleverage_ladder
from trimtab.session.funding import expected_hold_days, funding_switch
from trimtab.valuation.valuate import valuate

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PERP = "BTC/USDT:USDT"


def _policy(**costs: Any) -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05, "hedge": PERP},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
            "costs": {"taker_fee": 0.001, "slippage_bps": 0.0, "funding_horizon_days": 10, **costs},
        }
    )


def _market(mark: float, rate: float = 0.0) -> MarketSnapshot:
    return MarketSnapshot(NOW, {"BTC": mark, "USDT": 1.0}, {PERP: DerivativeQuote(mark=mark, funding_rate=rate)})


def _distance(portfolio: Portfolio, market: MarketSnapshot, policy: Policy) -> float | None:
    positions = [p for p in valuate(portfolio, market, policy.asset_classes()).positions if p.symbol == PERP]
    return positions[0].liquidation_distance if positions and positions[0].amount else None


def test_under_cross_margin_the_ladder_reduces_until_the_buffer_is_back_and_not_further() -> None:
    policy = _policy()
    # Cross margin, 500 USDT of cash (the coins count for nothing here), a 40 BTC short entered at 100.
    # Its liquidation price P solves 500 + 40 x (100 - P) = 0.005 x 40 x P: P = 4 500 / 40.2 = 111.94,
    # 6.6 % above the 105 mark: inside the 10 % buffer.
    short = DerivativePosition(parse_symbol(PERP), -40.0, 100.0, 10.0)
    portfolio = Portfolio("USDT", (SpotHolding("BTC", 5.0), SpotHolding("USDT", 500.0)), (short,))
    market = _market(105.0)
    assert _distance(portfolio, market, policy) == pytest.approx((4_500.0 / 40.2 - 105.0) / 105.0)
    ladder = deleverage_ladder(portfolio, market, policy, buffer=0.10, fraction=0.25)
    assert ladder.reducing_only
    perp, spot = ladder.trades
    # Step 1 (cut 10): cash 500 - 10 x 5 - 1.05 = 448.95, P = (448.95 + 3 000) / (30 x 1.005) = 114.39,
    # 8.9 % away: not enough. Step 2 (cut 7.5 more, 17.5 in all): cash 500 - 87.5 - 1.8375 = 410.6625,
    # P = (410.6625 + 2 250) / (22.5 x 1.005) = 117.66, 12.1 % away: the buffer is back, the ladder stops.
    assert (perp.symbol, perp.side, perp.reduce_only) == (PERP, Side.BUY, True)
    assert perp.amount == pytest.approx(17.5)
    after = apply_trades(portfolio, [perp], market, 0.001)
    assert _distance(after, market, policy) == pytest.approx((2_660.6625 / 22.6125 - 105.0) / 105.0)
    assert "reducing it by 44% in 2 step(s) (liquidation price 111.94 -> 117.66, 12.1% away)" in ladder.reasons[0]
    # The exposure the cut removes moves to spot as far as the coins held allow: 5 BTC are sold.
    assert (spot.symbol, spot.side, spot.amount) == ("BTC/USDT", Side.SELL, pytest.approx(5.0))
    assert "selling 5 BTC spot instead keeps BTC's exposure" in ladder.reasons[0]


def test_a_venue_reported_price_starts_the_ladder_but_each_step_is_judged_on_the_account_model() -> None:
    # The same cross book, the venue reporting the short's liquidation at 114.45 (9 % away, inside the buffer;
    # the account model says 111.94, 6.6 %). The first step takes the model's price to 114.39 (8.9 %): below
    # the venue's 9 % but further than the model's own 6.6 %, so the step did move it, and the ladder goes on
    # exactly as above (17.5 BTC, 117.66, 12.1 %) instead of closing the hedge as if it were isolated.
    policy = _policy()
    reported = DerivativePosition(parse_symbol(PERP), -40.0, 100.0, 10.0, liquidation_price=114.45)
    portfolio = Portfolio("USDT", (SpotHolding("BTC", 5.0), SpotHolding("USDT", 500.0)), (reported,))
    market = _market(105.0)
    assert _distance(portfolio, market, policy) == pytest.approx(0.09)
    ladder = deleverage_ladder(portfolio, market, policy, buffer=0.10, fraction=0.25)
    perp = ladder.trades[0]
    assert perp.amount == pytest.approx(17.5) and perp.reduce_only
    assert "liquidation price 114.45 -> 117.66, 12.1% away" in ladder.reasons[0]


def test_a_cross_account_past_its_maintenance_margin_is_closed_and_the_reason_says_cross() -> None:
    # 100 USDT; an ETH perpetual long of 100 entered at 10, marked 8.8 (-120 of PnL, 4.4 of maintenance); a
    # 1 BTC short at 100, mark 100. The account's collateral is 100 - 120 = -20, so the short's cushion is
    # -20 - 4.4 = -24.4 and its price (-24.4 + 100) / 1.005 = 75.22, below the mark: 0 % away. Halving it
    # (fee 0.05) gives (-24.45 + 50) / 0.5025 = 50.85, still 0 %: no step helps, the ladder closes it.
    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.3, "band": 0.05, "hedge": PERP},
                {"name": "ETH", "assets": ["ETH"], "target": 0.2, "band": 0.05, "hedge": "ETH/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
            "costs": {"taker_fee": 0.001, "slippage_bps": 0.0},
        }
    )
    eth = DerivativePosition(parse_symbol("ETH/USDT:USDT"), 100.0, 10.0, 10.0)
    short = DerivativePosition(parse_symbol(PERP), -1.0, 100.0, 10.0)
    portfolio = Portfolio("USDT", (SpotHolding("USDT", 100.0),), (eth, short))
    quotes = {PERP: DerivativeQuote(mark=100.0), "ETH/USDT:USDT": DerivativeQuote(mark=8.8)}
    market = MarketSnapshot(NOW, {"BTC": 100.0, "ETH": 8.8, "USDT": 1.0}, quotes)
    risks = {p.symbol: p for p in valuate(portfolio, market, policy.asset_classes()).positions}
    assert risks[PERP].liquidation_price == pytest.approx(75.6 / 1.005) and risks[PERP].liquidation_distance == 0.0
    ladder = deleverage_ladder(portfolio, market, policy, buffer=0.10, fraction=0.5)
    btc = next(t for t in ladder.trades if t.symbol == PERP)
    assert btc.amount == pytest.approx(1.0) and btc.side is Side.BUY
    reason = next(r for r in ladder.reasons if r.startswith(PERP))
    assert "closing it: its liquidation price does not move away as it shrinks (cross margin" in reason


def test_under_isolated_margin_a_partial_cut_cannot_help_so_the_ladder_closes_the_position() -> None:
    policy = _policy()
    isolated = (Account("default", "binance", AccountKind.UNIFIED, MarginMode.ISOLATED, {"USDT": 1.0}),)
    short = DerivativePosition(parse_symbol(PERP), -2.0, 50_000.0, 10.0)
    portfolio = Portfolio("USDT", (SpotHolding("BTC", 1.0), SpotHolding("USDT", 50_000.0)), (short,), isolated)
    # A 10x isolated short at 50 000 is liquidated at 50 000 x 1.1 / 1.005 = 54 726; at 52 000 it is 5.2 % away.
    ladder = deleverage_ladder(portfolio, _market(52_000.0), policy, buffer=0.10, fraction=0.5)
    perp, spot = ladder.trades
    assert perp.amount == pytest.approx(2.0) and perp.reduce_only
    assert "closing it: its liquidation price does not move as it shrinks (isolated margin)" in ladder.reasons[0]
    assert (spot.side, spot.amount) == (Side.SELL, pytest.approx(1.0))  # only the coin held can be sold


def test_a_position_outside_the_buffer_is_left_alone() -> None:
    policy = _policy()
    portfolio = Portfolio(
        "USDT",
        (SpotHolding("BTC", 1.0), SpotHolding("USDT", 100_000.0)),
        (DerivativePosition(parse_symbol(PERP), -1.0, 50_000.0, 2.0),),
    )
    ladder = deleverage_ladder(portfolio, _market(50_000.0), policy, buffer=0.10, fraction=0.5)
    assert ladder.trades == () and not ladder.reducing_only


def test_a_long_perpetual_paying_funding_is_replaced_by_buying_spot() -> None:
    policy = _policy()
    long = DerivativePosition(parse_symbol(PERP), 1.0, 50_000.0, 2.0)
    portfolio = Portfolio("USDT", (SpotHolding("USDT", 100_000.0),), (long,))
    market = _market(50_000.0, rate=0.0003)  # longs pay 0.09 % a day
    valuation = valuate(portfolio, market, policy.asset_classes())
    trades, reasons = funding_switch([], portfolio, valuation, market, policy)
    # 10 days x 50 000 x 0.0009 = 450 > 2 x 0.001 x 50 000 = 100.
    assert [(t.symbol, t.side, t.amount, t.reduce_only) for t in trades] == [
        (PERP, Side.SELL, 1.0, True),
        ("BTC/USDT", Side.BUY, 1.0, False),
    ]
    assert "450.00" in reasons[0] and "long perpetual" in reasons[0]


def test_a_numeric_horizon_is_the_expected_hold_however_long_the_hedges_were_held() -> None:
    policy = _policy()
    assert expected_hold_days(PERP, policy, {}) == 10
    assert expected_hold_days(PERP, policy, {PERP: 183.0}, horizons={PERP: 90.0}) == 10
    assert expected_hold_days(PERP, policy, {PERP: 2.0}) == 10


def test_an_auto_horizon_is_the_symbols_own_and_at_least_the_open_hedges_age() -> None:
    policy = _policy(funding_horizon_days="auto")
    assert expected_hold_days(PERP, policy, {}) == 7  # nothing measured: the planner's fallback week
    assert expected_hold_days(PERP, policy, {PERP: 183.0}) == 183.0  # held half a year: expect as much again
    # other symbols' hedges, however long held, do not stand in for this one's
    assert expected_hold_days(PERP, policy, {"ETH/USDT:USDT": 40.0, "SOL/USDT:USDT": 20.0}) == 7
    assert expected_hold_days(PERP, policy, {}, horizons={"ETH/USDT:USDT": 90.0}) == 7
    assert expected_hold_days(PERP, policy, {PERP: 2.0}, horizons={PERP: 12.0}) == 12.0
    assert expected_hold_days(PERP, policy, {}, horizons={PERP: 12.0}) == 12.0


def test_a_hedge_cheap_over_a_week_but_dear_over_its_measured_hold_is_switched() -> None:
    short = DerivativePosition(parse_symbol(PERP), -1.0, 50_000.0, 2.0)
    portfolio = Portfolio("USDT", (SpotHolding("BTC", 1.0), SpotHolding("USDT", 50_000.0)), (short,))
    market = _market(50_000.0, rate=-0.00005)  # shorts pay 0.015 % a day: 7.5 a day on 50 000
    policy = _policy(funding_horizon_days="auto")
    valuation = valuate(portfolio, market, policy.asset_classes())
    kept, _ = funding_switch([], portfolio, valuation, market, policy)
    assert kept == []  # over the fallback 7 days: 52.5 < 100 of round trip
    one_day = _policy(funding_horizon_days=1)
    assert funding_switch([], portfolio, valuation, market, one_day, ages={PERP: 30.0})[0] == []  # a number is kept
    switched, reasons = funding_switch([], portfolio, valuation, market, policy, ages={PERP: 30.0})
    assert [t.side for t in switched] == [Side.BUY, Side.SELL]  # over 30 days: 225 > 100
    assert "expected 30 d" in reasons[0]
