"""Running figures of an equity curve, kept bar by bar inside the kernel so a sweep needs no curve.

They follow :func:`trimtab.backtest.metrics.compute_metrics`: simple returns from bar to bar (the
non-finite ones left out), their mean and sample variance (Welford's update, ddof 1), the mean square of
their negative parts (the sortino denominator) and the largest fall below the running peak. The
figures agree with the ones computed from the recorded curve to about 1e-12 relative (summation order).
"""

from __future__ import annotations

import numpy as np
from numba import njit

CURVE_PREVIOUS = 0
CURVE_COUNT = 1
CURVE_MEAN = 2
CURVE_M2 = 3
CURVE_DOWNSIDE = 4
CURVE_PEAK = 5
CURVE_MAX_DRAWDOWN = 6
CURVE_SIZE = 7


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def accumulate(curve: np.ndarray, equity: float, first: bool) -> None:
    """Add bar equity ``equity`` to the running figures in ``curve`` (``first``: the curve's first bar)."""
    if not first:
        previous = curve[CURVE_PREVIOUS]
        change = (equity - previous) / previous
        if np.isfinite(change):
            count = curve[CURVE_COUNT] + 1.0
            delta = change - curve[CURVE_MEAN]
            curve[CURVE_MEAN] += delta / count
            curve[CURVE_M2] += delta * (change - curve[CURVE_MEAN])
            if change < 0.0:
                curve[CURVE_DOWNSIDE] += change * change
            curve[CURVE_COUNT] = count
    curve[CURVE_PREVIOUS] = equity
    if first or equity > curve[CURVE_PEAK]:
        curve[CURVE_PEAK] = equity
    peak = curve[CURVE_PEAK]
    if peak > 0.0:
        drawdown = 1.0 - equity / peak
        curve[CURVE_MAX_DRAWDOWN] = max(curve[CURVE_MAX_DRAWDOWN], drawdown)
