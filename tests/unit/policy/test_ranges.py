"""The rolling lows, highs and spacings a backtest hands its windows, against numpy's own reductions of each
window."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.policy.estimation import PriceWindow, volatility_ceilings
from trimtab.policy.ranges import RollingRanges


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=150),
    st.integers(min_value=1, max_value=3),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.floats(min_value=0.0, max_value=200.0),
)
def test_each_rows_range_is_numpys_min_and_max_over_its_lookback_and_its_smallest_spacing(
    rows: int, count: int, seed: int, hours: float
) -> None:
    # The reference: np.min / np.max of the rows whose time lies in [time - lookback, time] (a NaN propagates),
    # and np.min of np.diff of their times (infinite for a single row).
    rng = np.random.default_rng(seed)
    times = 1.7e9 + np.cumsum(3600.0 * rng.choice([1.0, 1.0, 2.0, 5.0], rows))
    prices = rng.uniform(0.5, 2.0, (rows, count))
    if seed % 4 == 0:
        prices[rng.integers(0, rows), rng.integers(0, count)] = np.nan
    lookback = timedelta(hours=hours)
    ranges = RollingRanges(times, prices)
    for row in range(rows):
        first = int(np.searchsorted(times, times[row] - lookback.total_seconds(), side="left"))
        lows, highs, spacing, count = ranges.at(row, lookback)
        assert count == row - first + 1
        np.testing.assert_array_equal(lows, np.min(prices[first : row + 1], axis=0))
        np.testing.assert_array_equal(highs, np.max(prices[first : row + 1], axis=0))
        assert spacing == (np.min(np.diff(times[first : row + 1])) if row > first else np.inf)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=40, max_value=120), st.integers(min_value=0, max_value=2**32 - 1))
def test_a_window_with_the_historys_ranges_has_the_ceilings_it_works_out_itself(rows: int, seed: int) -> None:
    # Evenly spaced days. A window cut to at least the lookback: the same rows (and the smallest spacing is the
    # median), so the same ceilings to the last bit; a window shorter than the lookback: the history's range
    # covers more rows, so its ceiling is as high at least.
    rng = np.random.default_rng(seed)
    times = 1.7e9 + 86_400.0 * np.arange(rows, dtype=np.float64)
    prices = np.exp(np.cumsum(rng.normal(0.0, 0.04, (rows, 2)), axis=0)) * 100.0
    ranges = RollingRanges(times, prices)
    lookback = timedelta(days=30)
    for row in range(3, rows):
        for first in (max(row - 35, 0), max(row - 10, 0)):
            cut = (times[first : row + 1], ("A", "B"), prices[first : row + 1])
            own = volatility_ceilings(PriceWindow(*cut), ["A", "B"], lookback)
            read = volatility_ceilings(PriceWindow(*cut, partial(ranges.at, row)), ["A", "B"], lookback)
            assert own.keys() == read.keys()
            for asset, ceiling in own.items():
                assert read[asset] == ceiling if times[row] - times[first] >= 30 * 86_400 else read[asset] >= ceiling


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=40, max_value=120), st.integers(min_value=0, max_value=2**32 - 1))
def test_with_uneven_spacing_the_historys_ceiling_is_as_high_at_least(rows: int, seed: int) -> None:
    # Hours and gaps of several hours: the smallest spacing is below the median, so more periods a year.
    rng = np.random.default_rng(seed)
    times = 1.7e9 + np.cumsum(3600.0 * rng.choice([1.0, 1.0, 2.0, 5.0], rows))
    prices = np.exp(np.cumsum(rng.normal(0.0, 0.01, (rows, 2)), axis=0)) * 100.0
    ranges = RollingRanges(times, prices)
    lookback = timedelta(hours=30)
    for row in range(3, rows):
        first = max(row - 40, 0)
        cut = (times[first : row + 1], ("A", "B"), prices[first : row + 1])
        own = volatility_ceilings(PriceWindow(*cut), ["A", "B"], lookback)
        read = volatility_ceilings(PriceWindow(*cut, partial(ranges.at, row)), ["A", "B"], lookback)
        assert own.keys() == read.keys()
        assert all(read[asset] >= ceiling for asset, ceiling in own.items())
