"""Pure pieces of the run loop: price sanity, the liquidation guard, the funding switch, approval matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trimtab.app.approval import same_trades, stdin_approver
from trimtab.app.guards import funding_switch, liquidation_guard
from trimtab.app.market import MarketRead, price_problems
from trimtab.domain import (
    DerivativePosition,
    DerivativeQuote,
    InstrumentKind,
    MarketSnapshot,
    Portfolio,
    SpotHolding,
    parse_symbol,
)
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.plan import Side, Trade
from trimtab.loaders.policy import load_policy
from trimtab.testing.plan_inputs import HEDGED_HALVES
from trimtab.valuation.valuate import valuate
from trimtab.venues.ports import Ticker

NOW = datetime(2026, 11, 21, tzinfo=UTC)
PERP = "BTC/USDT:USDT"
POLICY = (
    HEDGED_HALVES
    + """
[rebalance]
instrument = "perp"
[costs]
taker_fee = 0.001
slippage_bps = 5.0
funding_horizon_days = 10
"""
)


def _read(price: float, age_s: float = 0.0) -> MarketRead:
    ticker = Ticker("BTC/USDT", price * 0.999, price * 1.001, price, None, NOW - timedelta(seconds=age_s))
    return MarketRead(MarketSnapshot(NOW, {"BTC": price, "USDT": 1.0}), {"BTC/USDT": ticker}, ())


def test_fresh_prices_near_their_median_pass() -> None:
    assert (
        price_problems(_read(50_000.0), NOW, [{"BTC": 49_000.0}, {"BTC": 50_500.0}, {"BTC": 51_000.0}], 60, 0.2) == []
    )


def test_a_stale_ticker_and_a_bad_tick_are_reported() -> None:
    recent = [{"BTC": 50_000.0}] * 3
    assert "stale" in price_problems(_read(50_000.0, age_s=120), NOW, recent, 60, 0.2)[0]
    [problem] = price_problems(_read(6_500.0), NOW, recent, 60, 0.2)
    assert "87%" in problem
    assert price_problems(_read(6_500.0), NOW, recent[:2], 60, 0.2) == []  # too little history to judge


def _valuation(mark: float, policy_path: Path, amount: float = -1.0, leverage: float = 5.0) -> object:
    policy = load_policy(policy_path)
    # An isolated account: the position's own margin is what it may lose (a cross account would lend it
    # the whole 50,000 USDT and put the liquidation far away).
    isolated = (Account("default", "binance", AccountKind.UNIFIED, MarginMode.ISOLATED, {"USDT": 1.0}),)
    portfolio = Portfolio(
        "USDT",
        (SpotHolding("BTC", 2.0), SpotHolding("USDT", 50_000.0)),
        (DerivativePosition(parse_symbol(PERP), amount, 50_000.0, leverage),),
        isolated,
    )
    market = MarketSnapshot(NOW, {"BTC": mark, "USDT": 1.0}, {PERP: DerivativeQuote(mark=mark, funding_rate=-0.001)})
    return policy, portfolio, market, valuate(portfolio, market, policy.asset_classes())


def test_the_liquidation_guard_cuts_positions_inside_the_buffer(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(POLICY)
    _, _, _, far = _valuation(50_000.0, tmp_path / "p.toml")
    assert liquidation_guard(far, 0.10, 0.5).reducing_only is False  # type: ignore[arg-type]
    _, _, _, near = _valuation(57_000.0, tmp_path / "p.toml")
    verdict = liquidation_guard(near, 0.10, 0.5)  # type: ignore[arg-type]
    assert verdict.reducing_only
    [trade] = verdict.trades
    assert (trade.symbol, trade.side, trade.amount, trade.reduce_only) == (PERP, Side.BUY, 0.5, True)


def test_an_expensive_existing_hedge_is_swapped_for_a_spot_sale_partly_when_spot_is_short(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(POLICY)
    policy, portfolio, market, valuation = _valuation(50_000.0, tmp_path / "p.toml", amount=-3.0, leverage=10.0)
    trades, reasons = funding_switch([], portfolio, valuation, market, policy)  # type: ignore[arg-type]
    # Shorts pay 0.3 %/day: 10 days x 150 000 x 0.003 = 4 500 > 2 x 0.0015 x 150 000 = 450; only 2 BTC are held.
    assert [(t.symbol, t.side, t.amount, t.reduce_only) for t in trades] == [
        (PERP, Side.BUY, 2.0, True),
        ("BTC/USDT", Side.SELL, 2.0, False),
    ]
    assert "4500.00" in reasons[0]


def test_a_cheap_hedge_is_kept(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(POLICY.replace("funding_horizon_days = 10", "funding_horizon_days = 0.1"))
    policy, portfolio, market, valuation = _valuation(50_000.0, tmp_path / "p.toml")
    hedge = Trade("BTC", PERP, InstrumentKind.PERP, Side.SELL, 0.5, 25_000.0, 50_000.0)
    trades, reasons = funding_switch([hedge], portfolio, valuation, market, policy)  # type: ignore[arg-type]
    assert trades == [hedge] and reasons == []


def test_approval_matches_the_same_trades_within_tolerance() -> None:
    trade = Trade("BTC", "BTC/USDT", InstrumentKind.SPOT, Side.SELL, 0.4, 20_000.0, 50_000.0)
    approved = [{"symbol": "BTC/USDT", "side": "sell", "amount": 0.42}]
    assert same_trades(approved, [trade])
    assert not same_trades([{"symbol": "BTC/USDT", "side": "sell", "amount": 0.5}], [trade])
    assert not same_trades([{"symbol": "BTC/USDT", "side": "buy", "amount": 0.4}], [trade])


def test_the_stdin_approver_reads_yes_no_and_end_of_input() -> None:
    import io

    trade = Trade("BTC", "BTC/USDT", InstrumentKind.SPOT, Side.SELL, 0.4, 20_000.0, 50_000.0)
    answers = {"y\n": "approved", "no\n": "rejected", "": "pending"}
    for text, expected in answers.items():
        assert stdin_approver(io.StringIO(text), io.StringIO())("p1", [trade]) == expected


@pytest.mark.parametrize("fraction", [0.25, 1.0])
def test_the_deleverage_fraction_is_applied(tmp_path: Path, fraction: float) -> None:
    (tmp_path / "p.toml").write_text(POLICY)
    _, _, _, near = _valuation(57_000.0, tmp_path / "p.toml")
    [trade] = liquidation_guard(near, 0.10, fraction).trades  # type: ignore[arg-type]
    assert trade.amount == pytest.approx(fraction)
