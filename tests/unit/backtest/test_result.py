"""A backtest result costs what is read: curves, benchmark and metrics on demand, trades as columns."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import numpy as np
import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.backtest.metrics import compute_metrics
from trimtab.backtest.result import BacktestResult, Lazy
from trimtab.backtest.trades import TradeRecorder, iso_times
from trimtab.feed import MarketHistory
from trimtab.policy.config import Policy

HOUR_NS = 3600 * 1_000_000_000


def _history(bars: int = 400) -> MarketHistory:
    rng = np.random.default_rng(4)
    close = np.ones((bars, 3))
    close[:, :2] = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (bars, 2)), axis=0))
    return MarketHistory(
        timeframe="1h",
        assets=("BTC", "ETH", "USDT"),
        timestamps=1_704_067_200 * 1_000_000_000 + np.arange(bars, dtype=np.int64) * HOUR_NS,
        close=close,
        high=close * 1.01,
        low=close * 0.99,
        volume=np.zeros_like(close),
    )


def _policy() -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.45, "band": 0.03},
                {"name": "ETH", "assets": ["ETH"], "target": 0.45, "band": 0.03},
                {"name": "CASH", "assets": ["USDT"], "target": 0.1, "band": 0.03, "cash": True},
            ],
            "costs": {"taker_fee": 0.001, "slippage_bps": 2.0},
        }
    )


def test_iso_times_match_datetime_isoformat() -> None:
    moments = [
        datetime(2024, 1, 2, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 2, 29, 12, 0, 0, 250_000, tzinfo=UTC),
    ]
    stamps = np.array([int(m.timestamp() * 1_000_000) * 1000 for m in moments], dtype=np.int64)
    expected = [m.isoformat().replace("+00:00", "Z") for m in moments]
    assert iso_times(stamps) == expected


def test_the_fast_path_defers_curves_and_metrics_until_read() -> None:
    result = run_backtest(_policy(), _history(), capital=10_000.0)
    assert result.used_fast_path
    assert isinstance(result._curves, Lazy) and not result._curves._done
    assert result._metrics is None

    eager = run_backtest(_policy(), _history(), capital=10_000.0, fast=False)
    assert result.metrics["rebalances"] == eager.metrics["rebalances"] > 3
    assert result.metrics["final_equity"] == pytest.approx(eager.metrics["final_equity"], rel=1e-12)
    assert result.metrics is result.metrics  # computed once
    # the metrics are those of the curves they were computed from (an independent recomputation)
    again = compute_metrics(result.equity, result.timestamps, 10_000.0, result._totals)
    assert again["sharpe"] == result.metrics["sharpe"]
    assert result.benchmark_metrics["total_return"] == pytest.approx(eager.benchmark_metrics["total_return"])


def test_trades_read_as_dicts_and_match_the_event_engine() -> None:
    fast = run_backtest(_policy(), _history(), capital=10_000.0)
    slow = run_backtest(_policy(), _history(), capital=10_000.0, fast=False)
    assert len(fast.trades) == len(slow.trades) > 6
    assert fast.trades[-1] == fast.trades[len(fast.trades) - 1]
    assert [t["timestamp"] for t in fast.trades[:4]] == [t["timestamp"] for t in slow.trades[:4]]
    by_key = {(t["timestamp"], t["symbol"]): t for t in slow.trades}  # the planner orders a bar's fills
    for mine in fast.trades:
        theirs = by_key[(mine["timestamp"], mine["symbol"])]
        assert mine["side"] == theirs["side"] and mine["class"] == theirs["class"]
        assert mine["notional"] == pytest.approx(theirs["notional"], rel=1e-12)
    with pytest.raises(IndexError):
        fast.trades[len(fast.trades)]


def test_a_result_pickles_with_everything_computed() -> None:
    result = run_backtest(_policy(), _history(), capital=10_000.0)
    copy = pickle.loads(pickle.dumps(result))
    assert isinstance(copy, BacktestResult)
    np.testing.assert_array_equal(copy.equity, result.equity)
    assert copy.metrics == result.metrics
    assert list(copy.trades) == list(result.trades)


def test_the_recorder_keeps_fills_in_order() -> None:
    recorder = TradeRecorder()
    recorder.add(HOUR_NS, ("BTC", "BTC/USDT", "spot"), 0.5, 100.0, 50.0, 0.05, 0.01)
    recorder.add(2 * HOUR_NS, ("ETH", "ETH-PERP", "perp"), -2.0, 10.0, 20.0, 0.02, 0.0)
    log = recorder.log()
    assert [t["side"] for t in log] == ["buy", "sell"]
    assert log[1]["amount"] == 2.0 and log[1]["instrument"] == "perp"
    assert log[0]["timestamp"] == "1970-01-01T01:00:00Z"


def test_final_equity_and_rebalances_are_known_without_the_curves() -> None:
    result = run_backtest(_policy(), _history(), capital=10_000.0)
    final, rebalances = result.final_equity, result.rebalances
    assert isinstance(result._curves, Lazy) and not result._curves._done
    assert final == result.equity[-1] == result.metrics["final_equity"]
    assert rebalances == result.metrics["rebalances"]
    slow = run_backtest(_policy(), _history(), capital=10_000.0, fast=False)
    assert slow.final_equity == pytest.approx(final, rel=1e-12) and slow.rebalances == rebalances
