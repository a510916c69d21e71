"""Metrics with cash flows: computed on the flow-adjusted (time-weighted) curve, worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trimtab.backtest.flows import flow_adjusted
from trimtab.backtest.metrics import RunTotals, compute_metrics

DAY = 86_400 * 10**9


def test_a_withdrawal_is_no_drawdown_and_a_deposit_no_gain() -> None:
    # Equity 100, 110, 60 (55 withdrawn at that close: the book grew 115 / 110), 66 (+10 %), 166 (100 deposited).
    equity = np.array([100.0, 110.0, 60.0, 66.0, 166.0])
    flows = np.array([0.0, 0.0, -55.0, 0.0, 100.0])
    times = np.arange(5, dtype=np.int64) * DAY
    adjusted = flow_adjusted(equity, flows)
    np.testing.assert_allclose(adjusted, [100.0, 110.0, 115.0, 126.5, 126.5], rtol=1e-12)
    metrics = compute_metrics(equity, times, 100.0, RunTotals(), flows=flows)
    assert metrics["total_return"] == metrics["time_weighted_return"] == pytest.approx(0.265)
    assert metrics["max_drawdown"] == 0.0  # the raw curve fell 45 %
    assert metrics["final_equity"] == 166.0 and metrics["net_flows"] == 45.0
    returns = np.array([0.10, 115.0 / 110.0 - 1.0, 0.10, 0.0])
    assert metrics["volatility"] == pytest.approx(np.std(returns, ddof=1) * math.sqrt(365.0))
    assert metrics["cagr"] == pytest.approx(1.265 ** (365.0 / 4.0) - 1.0)
    plain = compute_metrics(equity, times, 100.0, RunTotals())
    assert "time_weighted_return" not in plain and plain["max_drawdown"] == pytest.approx(50.0 / 110.0)
