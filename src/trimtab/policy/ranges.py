"""Rolling lows and highs of a price history, for the cheap volatility ceiling of every window cut from it.

:func:`trimtab.policy.estimation.volatility_ceilings` bounds a window's volatility by its prices' range over a
lookback: two reductions over the window's rows, made again at every cycle. A producer that cuts its windows
from one history (the backtest) works the ranges out once per lookback instead, for every row of the history
at once (a sparse table of minima and maxima: ``log2(rows)`` passes over the history), and hands each window
a reader for its own row: a lookup per cycle.

A row's range covers the history's prices in ``[time - lookback, time]``: the rows of any window that ends at
that row and was cut to the lookback, or more of them (a window shorter than its lookback); a range over more
rows is wider, so the ceiling stays a ceiling. A NaN in the range makes it NaN (no ceiling), as in the window.

With each range come the number of its rows and the smallest spacing between two consecutive times among
them: a window that ends at the row holds the fewer of its own rows and those, and no median spacing of its
rows is smaller than that spacing, so the periods a year it gives bound the window's from above (the same
figure where the history is evenly spaced). The ceiling then needs neither a search nor a median of its own.
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
        self._tables: dict[float, tuple[list[list[float]], list[list[float]], list[float], list[int]]] = {}

    def at(self, row: int, lookback: timedelta) -> tuple[list[float], list[float], float, int]:
        """The lows and highs, per column, of the prices in ``[times[row] - lookback, times[row]]``, the smallest
        spacing of two consecutive times among those rows (infinite for one row) and how many rows they are."""
        key = lookback.total_seconds()
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = self._build(key)
        return table[0][row], table[1][row], table[2][row], table[3][row]

    def _build(self, seconds: float) -> tuple[list[list[float]], list[list[float]], list[float], list[int]]:
        times, prices = self._times, self._prices
        ends = np.arange(times.shape[0])
        starts = np.searchsorted(times, times - seconds, side="left")
        # spacing i is times[i] - times[i - 1]; a row's spacings are those of rows (start, end]
        spacing = np.concatenate(([np.inf], times[1:] - times[:-1]))[:, np.newaxis]
        low_rows = _rolling(np.minimum, prices, starts, ends)
        high_rows = _rolling(np.maximum, prices, starts, ends)
        spacings = _rolling(np.minimum, spacing, np.minimum(starts + 1, ends), ends)[:, 0]
        spacings[starts == ends] = np.inf  # one row: no two times
        return low_rows.tolist(), high_rows.tolist(), spacings.tolist(), (ends - starts + 1).tolist()


def _rolling(
    extreme: np.ufunc, values: FloatArray, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
) -> FloatArray:
    """``extreme`` (np.minimum or np.maximum) of ``values``' rows ``[starts[i], ends[i]]``, for every i at once:
    a sparse table (level j holds the extreme of rows ``[i, i + 2^j)``) and two of its entries per row."""
    level = np.floor(np.log2(ends - starts + 1)).astype(np.int64)
    width = np.left_shift(1, level)
    table = [values]
    span = 1
    while 2 * span <= values.shape[0]:
        table.append(extreme(table[-1][:-span], table[-1][span:]))
        span *= 2
    out = np.empty_like(values)
    for j, extremes in enumerate(table):
        chosen = level == j
        if chosen.any():
            out[chosen] = extreme(extremes[starts[chosen]], extremes[ends[chosen] - width[chosen] + 1])
    return out
