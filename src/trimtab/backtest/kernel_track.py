"""The kernel's tight loop over quiet bars when every bar is valued (a sweep's tracked runs).

A sweep needs each run's tracking error, time outside the bands and return figures, so every bar is
valued, not only the bars the trigger looks at. For a policy of one asset per class with fixed bands,
:func:`scan_tracked` values the bars on which nothing trades in one short loop, with the arithmetic of
:func:`trimtab.backtest.kernel.valuate` in the same order, and adds each bar to the run's figures as
the kernel's main loop does, so the figures are the same to the last bit. It stops at the first bar on
which the trigger may fire, which the main loop then takes in full.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trimtab.backtest import kernel_curve
from trimtab.backtest.kernel_curve import CurveState


@njit(cache=True, nogil=True, error_model="numpy")
def scan_tracked(
    close: np.ndarray,
    first_column: int,
    timestamps: np.ndarray,
    start: int,
    holdings: np.ndarray,
    cash: float,
    class_asset: np.ndarray,
    targets: np.ndarray,
    half_widths: np.ndarray,
    cash_class: int,
    calendar: bool,
    hybrid: bool,
    period_ns: int,
    last_rebalance: int,
    last_check: int,
    tracking_squared: float,
    equity_sum: float,
    curve: CurveState,
    edge_tolerance: float,
    loose_margin: float,
) -> tuple[int, int, float, float, int, int, float, CurveState]:
    """From bar ``start``, value and record every bar until the trigger may fire.

    Parameters
    ----------
    close, first_column, timestamps, holdings, cash, targets, cash_class:
        As in :func:`trimtab.backtest.kernel.simulate_window`, the holdings and cash those of the run.
    class_asset:
        The asset of each non-cash class (one each), -1 for the cash class, shape (C,).
    half_widths:
        The fixed half-widths, shape (1, C).
    calendar, hybrid, period_ns, last_rebalance, last_check:
        The trigger: calendar or hybrid (else threshold), its period and its last firing and check.
    tracking_squared, equity_sum, curve:
        The run's sums of squared distances from the targets and of equities, and its running figures
        (:mod:`trimtab.backtest.kernel_curve`), to add the recorded bars to.
    edge_tolerance, loose_margin:
        How far outside its band a class counts for ``STAT_OUTSIDE_BARS`` and ``STAT_OUTSIDE_BEYOND_COSTS``.

    Returns
    -------
    tuple
        The bar at which the trigger may fire (or T; that bar is not recorded), the hybrid trigger's last
        check, the equity of the last bar valued, the two sums, the bars recorded outside the bands by
        more than ``edge_tolerance`` and by more than ``loose_margin``, and the running figures.
    """
    n_bars = close.shape[0]
    n_assets = holdings.shape[0]
    n_classes = targets.shape[0]
    equity = 0.0
    outside_bars = 0
    loose_bars = 0
    stop = n_bars
    for t in range(start, n_bars):
        equity = cash
        for a in range(n_assets):
            equity += holdings[a] * close[t, np.uint64(first_column + a)]
        others = 0.0
        excess = -np.inf
        distance = 0.0
        outside = False
        for c in range(n_classes):
            if c == cash_class:
                continue
            a = class_asset[c]
            weight = (0.0 + holdings[a] * close[t, np.uint64(first_column + a)]) / equity
            others += weight
            gap = abs(weight - targets[c])
            distance += gap * gap
            excess = max(excess, gap - half_widths[0, c])
            outside |= gap > half_widths[0, c]
        gap = abs((1.0 - others) - targets[cash_class])
        distance += gap * gap
        excess = max(excess, gap - half_widths[0, cash_class])
        outside |= gap > half_widths[0, cash_class]
        now = timestamps[t]
        if calendar:
            if now - last_rebalance >= period_ns:
                stop = t
                break
        elif not hybrid or now - last_check >= period_ns:
            if outside:
                stop = t
                break
            if hybrid:
                last_check = now
        curve = kernel_curve.accumulate(curve, equity, False)
        tracking_squared += distance
        if excess > edge_tolerance:
            outside_bars += 1
        if excess > loose_margin:
            loose_bars += 1
        equity_sum += equity
    return stop, last_check, equity, tracking_squared, outside_bars, loose_bars, equity_sum, curve
