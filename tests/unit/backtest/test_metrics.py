"""Metrics of an equity curve, checked against figures worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trimtab.backtest.metrics import RunTotals, compute_metrics, periods_per_year

DAY = 86_400 * 1_000_000_000


def _days(count: int) -> np.ndarray:
    return np.arange(count, dtype=np.int64) * DAY


def test_a_curve_that_doubles_in_a_year_has_a_cagr_of_one() -> None:
    times = _days(366)
    equity = 100.0 * 2.0 ** (np.arange(366) / 365.0)
    metrics = compute_metrics(equity, times, 100.0, RunTotals())
    assert metrics["total_return"] == pytest.approx(1.0)
    assert metrics["cagr"] == pytest.approx(1.0)
    assert metrics["max_drawdown"] == 0.0
    # Constant returns: zero volatility, so no Sharpe ratio is reported.
    assert metrics["volatility"] == pytest.approx(0.0, abs=1e-12)


def test_drawdown_calmar_and_ratios_from_a_hand_made_curve() -> None:
    equity = np.array([100.0, 120.0, 90.0, 108.0, 135.0])
    times = _days(5)
    metrics = compute_metrics(equity, times, 100.0, RunTotals(rebalances=2, traded_notional=221.2, fees=0.2))
    assert metrics["max_drawdown"] == pytest.approx(0.25)  # 120 -> 90
    returns = np.array([0.2, -0.25, 0.2, 0.25])
    assert metrics["volatility"] == pytest.approx(np.std(returns, ddof=1) * math.sqrt(365))
    assert metrics["sharpe"] == pytest.approx(returns.mean() / np.std(returns, ddof=1) * math.sqrt(365))
    downside = math.sqrt((0.25**2) / 4)
    assert metrics["sortino"] == pytest.approx(returns.mean() / downside * math.sqrt(365))
    years = 4 / 365
    assert metrics["cagr"] == pytest.approx(1.35 ** (1 / years) - 1)
    assert metrics["calmar"] == pytest.approx(metrics["cagr"] / 0.25)
    assert metrics["turnover"] == pytest.approx(221.2 / equity.mean())
    assert metrics["rebalances"] == 2
    assert metrics["fees"] == 0.2


def test_tracking_error_is_the_rms_distance_of_the_weights_from_target() -> None:
    weights = np.array([[0.5, 0.5], [0.6, 0.4], [0.5, 0.5], [0.3, 0.7]])
    targets = np.full((4, 2), 0.5)
    lower, upper = targets - 0.15, targets + 0.15
    metrics = compute_metrics(np.full(4, 100.0), _days(4), 100.0, RunTotals(), weights, targets, lower, upper)
    # Per-bar squared distances: 0, 0.02, 0, 0.08 -> mean 0.025.
    assert metrics["tracking_error"] == pytest.approx(math.sqrt(0.025))
    assert metrics["time_outside_bands"] == pytest.approx(0.25)  # only the last bar (0.3 < 0.35)


def test_annualisation_follows_the_bar_spacing() -> None:
    hourly = np.arange(10, dtype=np.int64) * 3600 * 1_000_000_000
    assert periods_per_year(hourly) == pytest.approx(8760.0)
    assert periods_per_year(_days(3)) == pytest.approx(365.0)
