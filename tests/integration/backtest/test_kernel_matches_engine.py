"""The Numba fast path gives the event engine's numbers on real data, policy by policy.

The event engine calls the planner (``make_plan``) at every bar and fills on the simulated account; the
kernel re-implements the same semantics on arrays. Equity curves, fees, turnover, the rebalance count and
the trade log must agree to 1e-9 relative.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.feed import MarketHistory
from trimtab.policy.config import Policy

CASES: dict[str, dict[str, Any]] = {
    "threshold to target, scope all": {},
    "threshold to band edge": {"rebalance": {"to": "band-edge"}},
    "threshold, breached classes only": {"rebalance": {"scope": "breached"}},
    "band edge, breached only, large min_notional": {
        "rebalance": {"scope": "breached", "to": "band-edge", "min_notional": 500.0}
    },
    "monthly calendar": {"trigger": {"kind": "calendar", "every": "30d"}},
    "weekly hybrid with 10 bps slippage": {
        "trigger": {"kind": "hybrid", "every": "7d"},
        "costs": {"taker_fee": 0.001, "slippage_bps": 10.0},
    },
    "adaptive bands on 30-day realised volatility": {
        "trigger": {"kind": "threshold", "adaptive": {"lookback": "30d", "reference_vol": 0.6, "min_band": 0.02}}
    },
}


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300)))


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_reproduces_the_event_engine_on_real_daily_data(
    name: str, majors_daily: MarketHistory, four_class: Callable[..., Policy]
) -> None:
    policy = four_class(**CASES[name])
    engine = run_backtest(policy, majors_daily, fast=False)
    fast = run_backtest(policy, majors_daily, fast=True)

    assert not engine.used_fast_path and fast.used_fast_path
    assert engine.metrics["rebalances"] == fast.metrics["rebalances"]
    assert engine.metrics["rebalances"] > 5  # the case really rebalances
    assert _relative(engine.equity, fast.equity) < 1e-9
    assert _relative(engine.fees, fast.fees) < 1e-9
    assert _relative(engine.weights[:, :3], fast.weights[:, :3]) < 1e-9
    for key in ("final_equity", "fees", "turnover", "tracking_error", "sharpe", "max_drawdown", "slippage"):
        assert fast.metrics[key] == pytest.approx(engine.metrics[key], rel=1e-9, abs=1e-12), key
    assert np.array_equal(engine.rebalance_times, fast.rebalance_times)
    assert len(engine.trades) == len(fast.trades)
    for slow_trade, fast_trade in zip(engine.trades, fast.trades, strict=True):
        assert slow_trade["timestamp"] == fast_trade["timestamp"]
    by_key = {(t["timestamp"], t["symbol"]): t for t in engine.trades}
    for trade in fast.trades:
        twin = by_key[(trade["timestamp"], trade["symbol"])]
        assert trade["side"] == twin["side"]
        assert trade["notional"] == pytest.approx(twin["notional"], rel=1e-9)
    assert _relative(engine.benchmark_equity, fast.benchmark_equity) < 1e-9


def test_fast_path_is_chosen_automatically_only_when_allowed(
    majors_daily: MarketHistory, four_class: Callable[..., Policy]
) -> None:
    spot = four_class()
    assert run_backtest(spot, majors_daily, end=_day("2021-06-01")).used_fast_path
    combined = four_class(trigger={"kind": "any", "of": [{"kind": "threshold"}, {"kind": "calendar", "every": "90d"}]})
    result = run_backtest(combined, majors_daily, end=_day("2021-06-01"))
    assert not result.used_fast_path
    with pytest.raises(ValueError, match="trigger 'any'"):
        run_backtest(combined, majors_daily, fast=True)


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_kernel_matches_the_engine_with_a_stablecoin_in_the_cash_class(load: Callable[..., MarketHistory]) -> None:
    # USDC is held (bought at the start, never traded by the planner) and priced from its own file.
    history = load(["BTC", "ETH", "SOL", "USDC", "USDT"], "1d", "2020-09-01", "2021-10-20")
    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.35, "band": 0.04},
                {"name": "ALTS", "assets": ["ETH", "SOL"], "target": 0.35, "band": 0.04},
                {"name": "STABLE", "assets": ["USDT", "USDC"], "target": 0.30, "band": 0.04, "cash": True},
            ],
            "rebalance": {"to": "band-edge", "scope": "breached"},
            "costs": {"taker_fee": 0.00075, "slippage_bps": 3.0},
        }
    )
    engine = run_backtest(policy, history, fast=False)
    fast = run_backtest(policy, history, fast=True)
    assert engine.metrics["rebalances"] == fast.metrics["rebalances"] > 5
    assert _relative(engine.equity, fast.equity) < 1e-9
    assert _relative(engine.fees, fast.fees) < 1e-9
    assert fast.metrics["turnover"] == pytest.approx(engine.metrics["turnover"], rel=1e-9)
    assert any(t["symbol"] == "USDC/USDT" for t in fast.trades[:5])


def test_kernel_matches_the_engine_on_hourly_bars(load: Callable[..., MarketHistory]) -> None:
    history = load(["BTC", "ETH", "BNB", "USDT"], "1h", "2023-01-01", "2023-12-31")
    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.02},
                {"name": "ETH", "assets": ["ETH"], "target": 0.3, "band": 0.02},
                {"name": "BNB", "assets": ["BNB"], "target": 0.1, "band_relative": 0.2},
                {"name": "CASH", "assets": ["USDT"], "target": 0.1, "band": 0.02, "cash": True},
            ],
            "trigger": {"kind": "threshold", "adaptive": {"lookback": "7d", "reference_vol": 0.5}},
            "costs": {"taker_fee": 0.001, "slippage_bps": 1.0},
        }
    )
    engine = run_backtest(policy, history, fast=False)
    fast = run_backtest(policy, history, fast=True)
    assert engine.metrics["rebalances"] == fast.metrics["rebalances"] > 5
    assert _relative(engine.equity, fast.equity) < 1e-9
    assert _relative(engine.band_upper, fast.band_upper) < 1e-9
    assert fast.metrics["turnover"] == pytest.approx(engine.metrics["turnover"], rel=1e-9)
