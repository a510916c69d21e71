"""Running figures of an equity curve, kept bar by bar inside the kernel so a sweep needs no curve.

They follow :func:`trimtab.backtest.metrics.compute_metrics`: simple returns from bar to bar (the
non-finite ones left out), their mean and sample variance (ddof 1), the mean square of their negative
parts (the sortino denominator) and the largest fall below the running peak. The figures agree with the
ones computed from the recorded curve to about 1e-12 relative (summation order).

The mean and variance come in blocks of :data:`BLOCK` returns: within a block, sums of the returns'
deviations from the block's first return; each full block folds into the running count, mean and sum of
squared deviations by Chan, Golub and LeVeque's pairwise update. That is as stable as Welford's update
return by return, but a bar costs no division on the chain from one bar to the next (the kernel's
tracked runs went from 21 to 11 ns a bar with it). The state is a tuple of floats that the kernel keeps
in registers (:func:`start`, :func:`accumulate`, :func:`figures`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

BLOCK = 64.0
"""Returns per block of sums."""

CurveState = tuple[float, float, float, float, float, float, float, float, float, float, float]
"""Previous equity; count, mean and squared deviations of the folded returns; sum of squared negative
returns; peak; deepest drawdown; the open block's count, shift, sum and sum of squares."""


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def start() -> CurveState:
    """The state before the first bar."""
    return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def fold(
    count: float, mean: float, m2: float, k: float, shift: float, total: float, squares: float
) -> tuple[float, float, float]:
    """Count, mean and squared deviations of the folded returns and of a block of ``k`` more."""
    shifted_mean = total / k
    block_m2 = squares - total * shifted_mean
    merged = count + k
    delta = (shift + shifted_mean) - mean
    return merged, mean + delta * (k / merged), m2 + block_m2 + delta * delta * (count * k / merged)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def accumulate(curve: CurveState, equity: float, first: bool) -> CurveState:
    """The state after bar equity ``equity`` (``first``: the curve's first bar)."""
    previous, count, mean, m2, downside, peak, deepest, k, shift, total, squares = curve
    if not first:
        change = (equity - previous) / previous
        if np.isfinite(change):
            if k == 0.0:
                shift = change
            deviation = change - shift
            total += deviation
            squares += deviation * deviation
            k += 1.0
            if change < 0.0:
                downside += change * change
            if k >= BLOCK:
                count, mean, m2 = fold(count, mean, m2, k, shift, total, squares)
                k = 0.0
                total = 0.0
                squares = 0.0
    if first or equity > peak:
        peak = equity
    # Divide only where the drawdown may deepen: above peak x (1 - deepest), with a margin far wider
    # than the rounding, the deepest drawdown stays as it is.
    if peak > 0.0 and equity <= peak * (1.0 - deepest) + peak * 1e-9:
        deepest = max(deepest, 1.0 - equity / peak)
    return (equity, count, mean, m2, downside, peak, deepest, k, shift, total, squares)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def figures(curve: CurveState) -> tuple[float, float, float, float, float]:
    """The returns' count, mean, sum of squared deviations and of squared negative parts, and the deepest
    drawdown (the open block folded in)."""
    _, count, mean, m2, downside, _, deepest, k, shift, total, squares = curve
    if k > 0.0:
        count, mean, m2 = fold(count, mean, m2, k, shift, total, squares)
    return count, mean, m2, downside, deepest
