"""The prices a run gathers for the session's window (the journal's snapshots, a replay's earlier bars)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from trimtab.app.estimates import HistoryEstimator, PriceHistory
from trimtab.policy.config import Policy
from trimtab.policy.estimation import PriceWindow

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _policy(strategy: dict[str, object] | None = None, adaptive: bool = True) -> Policy:
    document: dict[str, object] = {
        "base_currency": "USDT",
        "class": [
            {"name": "BTC", "assets": ["BTC"], "target": 0.4, "band": 0.05, "hedge": "BTC/USDT:USDT"},
            {"name": "ALTS", "assets": ["ETH", "SOL"], "target": 0.3, "band": 0.05, "weights": {"ETH": 3, "SOL": 1}},
            {"name": "CASH", "assets": ["USDT"], "target": 0.3, "band": 0.05, "cash": True},
        ],
    }
    if adaptive:
        document["trigger"] = {"kind": "threshold", "adaptive": {"lookback": "1d", "reference_vol": 0.6}}
    if strategy is not None:
        document["strategy"] = strategy
    return Policy.model_validate(document)


def test_the_same_time_twice_keeps_one_row_and_rows_may_come_out_of_order() -> None:
    history = PriceHistory()
    history.add(NOW, {"BTC": 1.0})
    history.add(NOW - HOUR, {"BTC": 2.0, "ETH": float("nan")})
    history.add(NOW, {"BTC": 3.0})  # the snapshot after a cycle's trades: same time, same prices
    times, rows = history.window(NOW - 2 * HOUR, NOW)
    assert times == [NOW - HOUR, NOW] and rows == [{"BTC": 2.0}, {"BTC": 3.0}]
    history.forget_before(NOW)
    assert len(history) == 1


def test_the_table_is_the_window_of_the_rows_as_from_rows_builds_it() -> None:
    # Rows out of order, one replaced, a price missing, a NaN and a non-positive price left out, old rows dropped:
    # the table kept as rows arrive holds the figures PriceWindow.from_rows works out from the rows themselves.
    history = PriceHistory(("BTC", "ETH"))
    history.add(NOW, {"BTC": 1.0, "ETH": 5.0})
    history.add(NOW - 3 * HOUR, {"BTC": 9.0})
    history.add(NOW - HOUR, {"BTC": 2.0, "ETH": float("nan")})
    history.add(NOW - 2 * HOUR, {"BTC": 4.0, "ETH": -1.0})
    history.add(NOW, {"BTC": 3.0, "ETH": 6.0})
    history.forget_before(NOW - 2 * HOUR)
    times, rows = history.window(NOW - 5 * HOUR, NOW)
    expected = PriceWindow.from_rows(times, rows, ("BTC", "ETH"))
    table = history.table(NOW - 5 * HOUR, NOW)
    assert table.assets == expected.assets
    np.testing.assert_array_equal(table.times, expected.times)
    np.testing.assert_array_equal(table.prices, expected.prices)
    assert table.prices.tolist()[0][0] == 4.0 and math.isnan(table.prices[1, 1]) and table.prices[2, 1] == 6.0
    assert history.table(NOW + HOUR, NOW + 2 * HOUR).prices.shape == (0, 2)


def test_the_window_reaches_back_the_longest_lookback_the_policy_needs() -> None:
    # A hedged policy's liquidation buffer looks back 30 days; the beta model's 40 days are longer still.
    policy = _policy({"kind": "beta-neutral", "long": "ALTS", "short": "BTC", "lookback": "40d"})
    estimator = HistoryEstimator(policy)
    assert estimator.horizon == timedelta(days=40)  # longer than the adaptive bands' day and the guard's 30
    rng = np.random.default_rng(5)
    for i in range(60):
        window = estimator.window(NOW - (59 - i) * DAY, {"BTC": float(rng.uniform(1, 2)), "ETH": 3.0, "SOL": 1.0})
    assert window is not None and window.assets == ("BTC", "ETH", "SOL")
    assert window.times.size == 41  # forty days of daily prices, both ends included
    assert window.end == pytest.approx(NOW.timestamp())
    assert len(estimator.history) == 41  # older prices are dropped


def test_a_hedged_policy_keeps_the_guards_thirty_days_even_with_a_shorter_model_lookback() -> None:
    policy = _policy({"kind": "beta-neutral", "long": "ALTS", "short": "BTC", "lookback": "2d"})
    assert HistoryEstimator(policy).horizon == timedelta(days=30)


def test_prices_the_cycle_does_not_trust_are_not_recorded() -> None:
    estimator = HistoryEstimator(_policy())
    estimator.window(NOW - HOUR, {"BTC": 50_000.0})
    window = estimator.window(NOW, {"BTC": 6_500.0}, record=False)  # a paused cycle's outlier
    assert len(estimator.history) == 1
    assert window is not None and window.times.size == 1


def test_a_policy_without_adaptive_bands_an_estimated_beta_or_a_hedge_needs_nothing() -> None:
    spot_only = _policy(adaptive=False)  # fixed targets traded spot: no estimate, no liquidation buffer
    estimator = HistoryEstimator(spot_only)
    assert not estimator.needed
    assert estimator.window(NOW, {"BTC": 1.0}) is None
    assert len(estimator.history) == 0
