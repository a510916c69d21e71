"""Metrics that mean what they say: fee noise is not a breach, the initial purchase's cost apart, funding gaps.

Figures by hand on hand-built histories (BTC 50 % +/- 5 against USDT, daily closes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.backtest.metrics import RunTotals, compute_metrics
from trimtab.feed.history import MarketHistory
from trimtab.policy.config import Policy

DAY = 86_400 * 10**9
EPOCH = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) * 10**9


def history(closes: list[float]) -> MarketHistory:
    times = np.array([EPOCH + n * DAY for n in range(len(closes))], dtype=np.int64)
    close = np.array([[c, 1.0] for c in closes])
    return MarketHistory(
        timeframe="1d",
        assets=("BTC", "USDT"),
        timestamps=times,
        close=close,
        high=close,
        low=close,
        volume=np.ones_like(close) * 1e12,
        coverage={"BTC": (int(times[0]), int(times[-1])), "USDT": (int(times[0]), int(times[-1]))},
    )


def policy(**rebalance: Any) -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05, "hedge": "BTC/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
            "rebalance": rebalance,
            "costs": {"taker_fee": 0.001, "slippage_bps": 0.0},
        }
    )


def test_a_miss_within_the_tolerance_is_not_time_outside_the_band() -> None:
    # Two bars; BTC closes 0.05 pp above its upper edge on the first (fee noise), 2 pp on the second.
    weights = np.array([[0.5505, 0.4495], [0.57, 0.43]])
    lower = np.array([[0.45, 0.45]] * 2)
    upper = np.array([[0.55, 0.55]] * 2)
    targets = np.array([[0.5, 0.5]] * 2)
    times = np.array([0, DAY], dtype=np.int64)
    metrics = compute_metrics(np.ones(2), times, 1.0, RunTotals(), weights, targets, lower, upper, 0.0015)
    assert metrics["time_outside_bands"] == 0.5
    assert metrics["time_outside_bands_strict"] == 1.0


def test_cost_after_the_initial_purchase_leaves_out_what_buying_the_targets_cost() -> None:
    # 1,000 of capital buys 500 of BTC at 100: 0.5 of fee. At 200, BTC is 1,000 of 1,499.5: sell to
    # 749.75, 250.25 of notional: 0.25025 of fee.
    result = run_backtest(policy(), history([100.0, 200.0]), capital=1000.0)
    metrics = result.metrics
    assert metrics["fees"] == pytest.approx(0.5 + 0.25025)
    assert metrics["cost"] == pytest.approx(0.5 + 0.25025)
    assert metrics["cost_after_initial"] == pytest.approx(0.25025)
    event = run_backtest(policy(), history([100.0, 200.0]), capital=1000.0, fast=False)
    assert event.metrics["cost_after_initial"] == pytest.approx(0.25025)


def test_a_hedge_held_without_funding_history_is_counted_and_reported() -> None:
    # instrument = "perp": day 1 shorts the perpetual; days 2 and 3 hold it with no funding file.
    result = run_backtest(policy(instrument="perp"), history([100.0, 200.0, 210.0, 220.0]), capital=1000.0)
    assert result.metrics["funding_gap_bars"] == 2
    gaps = [e for e in result.events if e["kind"] == "funding_gap"]
    assert [(e["bar"], e["symbol"]) for e in gaps] == [(2, "BTC/USDT:USDT")]
    assert result.metrics["funding"] == 0.0


def test_a_spot_backtest_has_no_funding_gap() -> None:
    assert run_backtest(policy(), history([100.0, 200.0, 210.0]), capital=1000.0).metrics["funding_gap_bars"] == 0


def two_asset_history(a: list[float], b: list[float]) -> MarketHistory:
    times = np.array([EPOCH + n * DAY for n in range(len(a))], dtype=np.int64)
    close = np.array([[x, y, 1.0] for x, y in zip(a, b, strict=True)])
    span = (int(times[0]), int(times[-1]))
    return MarketHistory(
        timeframe="1d",
        assets=("AAA", "BBB", "USDT"),
        timestamps=times,
        close=close,
        high=close,
        low=close,
        volume=np.ones_like(close) * 1e12,
        coverage={"AAA": span, "BBB": span, "USDT": span},
    )


@pytest.mark.parametrize("fast", [True, False])
def test_within_class_tracking_error_sees_a_sleeve_drifting_inside_its_band(fast: bool) -> None:
    # ALTS (AAA, BBB split evenly) 50 % +/- 30, no fees. 1,000 buys 250 of each at 1. Next bar AAA doubles:
    # AAA 500, BBB 250, cash 500 of 1,250: the sleeve is 60 % (inside its band, so no trade), AAA 40 % and
    # BBB 20 % against 30 % each: (0.1^2 + 0.1^2) on that bar, 0 on the first; sqrt(0.02 / 2) = 0.1.
    chosen = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "ALTS", "assets": ["AAA", "BBB"], "target": 0.5, "band": 0.3},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.3, "cash": True},
            ],
            "costs": {"taker_fee": 0.0, "slippage_bps": 0.0},
        }
    )
    result = run_backtest(chosen, two_asset_history([1.0, 2.0], [1.0, 1.0]), capital=1000.0, fast=fast)
    assert result.metrics["rebalances"] == 0
    assert result.metrics["within_class_tracking_error"] == pytest.approx(0.1)
