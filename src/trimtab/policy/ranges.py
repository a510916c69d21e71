"""Rolling lows and highs of a price history, for the cheap volatility ceiling of every window cut from it.

:func:`trimtab.policy.estimation.volatility_ceilings` bounds a window's volatility by its prices' range over a
lookback: two reductions over the window's rows, made again at every cycle. A producer that cuts its windows
from one history (the backtest) works the ranges out once per lookback instead, for every row of the history
at once (a sparse table of minima and maxima: ``log2(rows)`` passes over the history), and hands each window
a reader for its own row: a lookup per cycle.

A row's range covers the history's prices in ``[time - lookback, time]``: the rows of any window that ends at
that row and was cut to the lookback, or more of them (a window shorter than its lookback); a range over more
rows is wider, so the ceiling stays a ceiling. A NaN in the range makes it NaN (no ceiling), as in the window.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class RollingRanges:
    """The lows and highs of ``prices`` (shape (len(times), assets)) over each row's lookback, per lookback."""

    __slots__ = ("_prices", "_tables", "_times")

    def __init__(self, times: FloatArray, prices: FloatArray) -> None:
        self._times, self._prices = times, prices
        self._tables: dict[float, tuple[list[list[float]], list[list[float]]]] = {}

    def at(self, row: int, lookback: timedelta) -> tuple[list[float], list[float]]:
        """The lows and highs, per column, of the prices in ``[times[row] - lookback, times[row]]``."""
        key = lookback.total_seconds()
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = self._build(key)
        return table[0][row], table[1][row]

    def _build(self, seconds: float) -> tuple[list[list[float]], list[list[float]]]:
        times, prices = self._times, self._prices
        ends = np.arange(times.shape[0])
        starts = np.searchsorted(times, times - seconds, side="left")
        lengths = ends - starts + 1
        level = np.floor(np.log2(lengths)).astype(np.int64)
        width = np.left_shift(1, level)
        lows, highs = [prices], [prices]
        span = 1
        while 2 * span <= times.shape[0]:  # level j: the extreme of rows [i, i + 2^j)
            lows.append(np.minimum(lows[-1][:-span], lows[-1][span:]))
            highs.append(np.maximum(highs[-1][:-span], highs[-1][span:]))
            span *= 2
        low_rows = np.empty_like(prices)
        high_rows = np.empty_like(prices)
        for j in range(len(lows)):
            chosen = level == j
            if not chosen.any():
                continue
            left, right = starts[chosen], ends[chosen] - width[chosen] + 1
            low_rows[chosen] = np.minimum(lows[j][left], lows[j][right])
            high_rows[chosen] = np.maximum(highs[j][left], highs[j][right])
        return low_rows.tolist(), high_rows.tolist()
