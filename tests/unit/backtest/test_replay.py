"""Realised volatility over a trailing time window equals the per-window formula of the bands module."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from trimtab.backtest.replay import rolling_volatility
from trimtab.policy.bands import realised_volatility

HOUR = 3600 * 1_000_000_000


def test_rolling_volatility_matches_realised_volatility_on_every_window_even_across_gaps() -> None:
    rng = np.random.default_rng(7)
    times = np.arange(400, dtype=np.int64) * HOUR
    times = np.delete(times, [50, 51, 52, 200])  # gaps in the bar grid shorten those windows
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (times.shape[0], 2)), axis=0))
    lookback = timedelta(hours=48)
    vol = rolling_volatility(close, times, lookback, 8760.0)
    for t in range(times.shape[0]):
        inside = np.flatnonzero((times >= times[t] - 48 * HOUR) & (times <= times[t]))
        for column in range(2):
            # Three closes spanning half the 48 h lookback, the estimator's rule, or no figure.
            if inside.shape[0] < 3 or times[t] - times[inside[0]] < 24 * HOUR:
                assert np.isnan(vol[t, column])
            else:
                expected = realised_volatility(close[inside, column], 8760.0)
                assert vol[t, column] == pytest.approx(expected, rel=1e-9)
