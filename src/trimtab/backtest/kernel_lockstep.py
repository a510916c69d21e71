"""A batch's tracked runs in lockstep: bar by bar over a block of runs, the quiet bars in SIMD over runs.

The runs of a sweep share every bar's prices. For threshold-triggered runs of one asset per class with
fixed bands, each tracked (every bar valued, nothing recorded per bar), :func:`simulate_block` walks the
bars once for :data:`LANES` runs: each bar's valuation, band test and running figures are short loops
over the runs, without branches, which LLVM turns into vector instructions (four runs an instruction
with AVX2, divisions included). The runs whose bands are breached on a bar take it in a scalar pass with
the kernel's own valuation, goals and fills (:mod:`trimtab.backtest.kernel`). The arithmetic of every
run is that of :func:`trimtab.backtest.kernel_track.scan_tracked` and of the kernel's main loop, in the
same order, so the figures are those of :func:`trimtab.backtest.kernel.simulate_window` to the last bit.

A block's state is one array of :data:`LANES`-wide rows (the ``ROW_*`` constants, then one row of
holdings per asset and one of half-widths per class): with rows a constant width apart, LLVM sees that
the rows do not overlap and vectorises the loops over runs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trimtab.backtest import kernel, kernel_curve
from trimtab.backtest.kernel_divide import in_range, quotient
from trimtab.backtest.kernel_goals import rebalance_changes

LANES = 96
"""Runs in a block: long loops over runs, and a sweep of 191 widths in two blocks, one a thread."""

BEYOND_EDGE = 2.0**20
BEYOND_COSTS = 2.0**40
"""Weights in a run's tally of its classes on a bar: 1 a class breached, ``BEYOND_EDGE`` one outside by more
than the rounding, ``BEYOND_COSTS`` one outside by more than its costs (exact while a policy has fewer than
2**19 classes). Each is also the least tally with a class at that level or beyond."""

COST_TAKER_FEE = 0
COST_SLIPPAGE = 1
COST_MIN_NOTIONAL = 2
COST_EDGE = 3
RUN_COSTS = 4
"""Columns of a batch's per-run cost array (:mod:`trimtab.backtest.kernel_batch`)."""

ROW_CASH = 0
ROW_EQUITY = 1
ROW_DISTANCE = 2
ROW_OTHERS = 3
ROW_TALLY = 4
ROW_PREVIOUS = 5
ROW_COUNT = 6
ROW_MEAN = 7
ROW_M2 = 8
ROW_DOWNSIDE = 9
ROW_PEAK = 10
ROW_DEEPEST = 11
ROW_BLOCK_COUNT = 12
ROW_SHIFT = 13
ROW_TOTAL = 14
ROW_SQUARES = 15
ROW_TRACKING = 16
ROW_OUTSIDE = 17
ROW_LOOSE = 18
ROW_EQUITY_SUM = 19
ROW_LOOSE_MARGIN = 20
ROW_FEES = 21
ROW_SLIPPAGE = 22
ROW_TRADED = 23
ROW_REBALANCES = 24
ROW_TRADES = 25
ROW_INITIAL_COST = 26
ROW_INVERSE = 27
ROW_INVERSE_PREVIOUS = 28
ROW_DEEPER = 29
ROW_HOLDINGS = 30
"""Rows of a block's state; the holdings' rows (one per asset) and then the half-widths' (one per class)."""


def block_floats(n_assets: int, n_classes: int) -> int:
    """Floats of one block's state."""
    return (ROW_HOLDINGS + n_assets + n_classes) * LANES


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _at(row: int, lane: int) -> np.uint64:
    """Index of ``lane`` in ``row`` (unsigned: Numba then adds no wrap-around test)."""
    return np.uint64(row * LANES + lane)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _tally(state: np.ndarray, j: int, gap: float, band: float, edge_tolerance: float) -> None:
    """Count for run ``j`` a class ``gap`` from its target against its ``band`` in its tally: 1 if breached,
    :data:`BEYOND_EDGE` more if outside by more than ``edge_tolerance``, :data:`BEYOND_COSTS` more if by more
    than the run's costs. The kernel compares the largest ``gap - band`` with these (``max`` never takes a
    NaN), so the tally's range is the same decision; it is added without a branch, which keeps the loop
    over the runs vectorised, and in one row, which keeps it short."""
    excess = gap - band
    state[_at(ROW_TALLY, j)] += (
        (1.0 if gap > band else 0.0)
        + (BEYOND_EDGE if excess > edge_tolerance else 0.0)
        + (BEYOND_COSTS if excess > state[_at(ROW_LOOSE_MARGIN, j)] else 0.0)
    )


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _invert(state: np.ndarray, j: int) -> bool:
    """Store the reciprocal of run ``j``'s equity; whether its return's quotient is out of range."""
    equity = state[_at(ROW_EQUITY, j)]
    previous = state[_at(ROW_PREVIOUS, j)]
    state[_at(ROW_INVERSE, j)] = 1.0 / equity
    return not in_range(equity - previous, previous)


@njit(cache=True, nogil=True, error_model="numpy")
def _value_block(
    close: np.ndarray,
    first_column: int,
    t: int,
    state: np.ndarray,
    class_asset: np.ndarray,
    targets: np.ndarray,
    cash_class: int,
    n_assets: int,
    edge_tolerance: float,
    exact: bool,
) -> tuple[bool, bool]:
    """Bar ``t``'s equity, squared distance from the targets, furthest excess over a band and band test of
    every run of the block (as :func:`trimtab.backtest.kernel_track.scan_tracked`).

    The weights divide by the equity through its reciprocal (:func:`trimtab.backtest.kernel_divide.quotient`)
    unless ``exact``. Returns whether a run is breached and whether the quotients were all in range (else
    the caller takes the bar again with ``exact``; the bar's return is checked too).
    """
    band_row = ROW_HOLDINGS + n_assets
    for j in range(LANES):
        state[_at(ROW_EQUITY, j)] = state[_at(ROW_CASH, j)]
        state[_at(ROW_OTHERS, j)] = 0.0
        state[_at(ROW_DISTANCE, j)] = 0.0
        state[_at(ROW_TALLY, j)] = 0.0
    for a in range(n_assets):
        price = close[t, np.uint64(first_column + a)]
        for j in range(LANES):
            state[_at(ROW_EQUITY, j)] += state[_at(ROW_HOLDINGS + a, j)] * price
    unsafe = 0
    for j in range(LANES):
        unsafe += _invert(state, j)
    for c in range(targets.shape[0]):
        if c == cash_class:
            continue
        a = class_asset[c]
        price = close[t, np.uint64(first_column + a)]
        target = targets[c]
        for j in range(LANES):
            value = 0.0 + state[_at(ROW_HOLDINGS + a, j)] * price
            equity = state[_at(ROW_EQUITY, j)]
            weight = value / equity if exact else quotient(value, equity, state[_at(ROW_INVERSE, j)])
            unsafe += not in_range(value, equity)
            state[_at(ROW_OTHERS, j)] += weight
            gap = abs(weight - target)
            state[_at(ROW_DISTANCE, j)] += gap * gap
            band = state[_at(band_row + c, j)]
            _tally(state, j, gap, band, edge_tolerance)
    target = targets[cash_class]
    breached = 0
    for j in range(LANES):
        gap = abs((1.0 - state[_at(ROW_OTHERS, j)]) - target)
        state[_at(ROW_DISTANCE, j)] += gap * gap
        band = state[_at(band_row + cash_class, j)]
        _tally(state, j, gap, band, edge_tolerance)
        breached += state[_at(ROW_TALLY, j)] != 0.0
    return breached > 0, unsafe == 0


@njit(cache=True, nogil=True, error_model="numpy")
def _record_block(state: np.ndarray, exact: bool) -> tuple[bool, bool]:
    """Add the bar's valuation to the figures of every run of the block not breached on it, as
    :func:`trimtab.backtest.kernel_curve.accumulate` does (the return through the previous equity's
    reciprocal unless ``exact``). Returns whether a run's block of returns is full and whether a run's
    drawdown may deepen (:func:`_deepen` then finishes it)."""
    full = 0
    deeper_runs = 0
    for j in range(LANES):
        take = state[_at(ROW_TALLY, j)] == 0.0
        equity = state[_at(ROW_EQUITY, j)]
        previous = state[_at(ROW_PREVIOUS, j)]
        change = (
            (equity - previous) / previous
            if exact
            else quotient(equity - previous, previous, state[_at(ROW_INVERSE_PREVIOUS, j)])
        )
        counted = take and np.isfinite(change)
        k = state[_at(ROW_BLOCK_COUNT, j)]
        shift = change if counted and k == 0.0 else state[_at(ROW_SHIFT, j)]
        state[_at(ROW_SHIFT, j)] = shift
        deviation = change - shift
        total = state[_at(ROW_TOTAL, j)]
        state[_at(ROW_TOTAL, j)] = total + deviation if counted else total
        squares = state[_at(ROW_SQUARES, j)]
        state[_at(ROW_SQUARES, j)] = squares + deviation * deviation if counted else squares
        downside = state[_at(ROW_DOWNSIDE, j)]
        state[_at(ROW_DOWNSIDE, j)] = downside + change * change if counted and change < 0.0 else downside
        k = k + 1.0 if counted else k
        state[_at(ROW_BLOCK_COUNT, j)] = k
        full += k >= kernel_curve.BLOCK
        peak = state[_at(ROW_PEAK, j)]
        peak = equity if take and equity > peak else peak
        state[_at(ROW_PEAK, j)] = peak
        deepest = state[_at(ROW_DEEPEST, j)]
        deeper = take and peak > 0.0 and equity <= peak * (1.0 - deepest) + peak * 1e-9
        state[_at(ROW_DEEPER, j)] = 1.0 if deeper else 0.0
        deeper_runs += deeper
        state[_at(ROW_PREVIOUS, j)] = equity if take else previous
        inverse = state[_at(ROW_INVERSE_PREVIOUS, j)]
        state[_at(ROW_INVERSE_PREVIOUS, j)] = state[_at(ROW_INVERSE, j)] if take else inverse
        tracking = state[_at(ROW_TRACKING, j)]
        state[_at(ROW_TRACKING, j)] = tracking + state[_at(ROW_DISTANCE, j)] if take else tracking
        # A bar taken here is inside every band (else the run is breached and takes it in _step), so the
        # bars outside the bands are all counted there.
        equity_sum = state[_at(ROW_EQUITY_SUM, j)]
        state[_at(ROW_EQUITY_SUM, j)] = equity_sum + equity if take else equity_sum
    return full > 0, deeper_runs > 0


@njit(cache=True, nogil=True, error_model="numpy")
def _deepen(state: np.ndarray) -> None:
    """The deepest drawdown of the runs :func:`_record_block` marked, as the kernel computes it."""
    for j in range(LANES):
        if state[_at(ROW_DEEPER, j)] != 0.0:
            deepest = state[_at(ROW_DEEPEST, j)]
            state[_at(ROW_DEEPEST, j)] = max(deepest, 1.0 - state[_at(ROW_PREVIOUS, j)] / state[_at(ROW_PEAK, j)])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _curve(state: np.ndarray, j: int) -> kernel_curve.CurveState:
    """Run ``j``'s running figures as :mod:`trimtab.backtest.kernel_curve` keeps them."""
    return (
        state[_at(ROW_PREVIOUS, j)],
        state[_at(ROW_COUNT, j)],
        state[_at(ROW_MEAN, j)],
        state[_at(ROW_M2, j)],
        state[_at(ROW_DOWNSIDE, j)],
        state[_at(ROW_PEAK, j)],
        state[_at(ROW_DEEPEST, j)],
        state[_at(ROW_BLOCK_COUNT, j)],
        state[_at(ROW_SHIFT, j)],
        state[_at(ROW_TOTAL, j)],
        state[_at(ROW_SQUARES, j)],
    )


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _set_curve(state: np.ndarray, j: int, curve: kernel_curve.CurveState) -> None:
    """Store run ``j``'s running figures."""
    previous, count, mean, m2, downside, peak, deepest, k, shift, total, squares = curve
    state[_at(ROW_PREVIOUS, j)] = previous
    state[_at(ROW_COUNT, j)] = count
    state[_at(ROW_MEAN, j)] = mean
    state[_at(ROW_M2, j)] = m2
    state[_at(ROW_DOWNSIDE, j)] = downside
    state[_at(ROW_PEAK, j)] = peak
    state[_at(ROW_DEEPEST, j)] = deepest
    state[_at(ROW_BLOCK_COUNT, j)] = k
    state[_at(ROW_SHIFT, j)] = shift
    state[_at(ROW_TOTAL, j)] = total
    state[_at(ROW_SQUARES, j)] = squares


@njit(cache=True, nogil=True, error_model="numpy")
def _fold_full(state: np.ndarray) -> None:
    """Fold every full block of returns into its run's running mean and variance."""
    for j in range(LANES):
        if state[_at(ROW_BLOCK_COUNT, j)] >= kernel_curve.BLOCK:
            count, mean, m2 = kernel_curve.fold(
                state[_at(ROW_COUNT, j)],
                state[_at(ROW_MEAN, j)],
                state[_at(ROW_M2, j)],
                state[_at(ROW_BLOCK_COUNT, j)],
                state[_at(ROW_SHIFT, j)],
                state[_at(ROW_TOTAL, j)],
                state[_at(ROW_SQUARES, j)],
            )
            state[_at(ROW_COUNT, j)] = count
            state[_at(ROW_MEAN, j)] = mean
            state[_at(ROW_M2, j)] = m2
            state[_at(ROW_BLOCK_COUNT, j)] = 0.0
            state[_at(ROW_TOTAL, j)] = 0.0
            state[_at(ROW_SQUARES, j)] = 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _step(
    close: np.ndarray,
    first_column: int,
    t: int,
    state: np.ndarray,
    j: int,
    class_of: np.ndarray,
    split: np.ndarray,
    targets: np.ndarray,
    half_widths: np.ndarray,
    cash_class: int,
    capital: float,
    taker_fee: float,
    slippage: float,
    min_notional: float,
    edge_cost: float,
    scope_breached: bool,
    band_edge: bool,
    work: np.ndarray,
    flags: np.ndarray,
    no_index: np.ndarray,
    no_values: np.ndarray,
) -> None:
    """Bar ``t`` of run ``j`` as the kernel's main loop takes it: the initial purchase at bar 0, else the
    planner's band test and, when it fires, the goals and fills; then the bar's record."""
    n_assets = class_of.shape[0]
    n_classes = targets.shape[0]
    holdings = work[:n_assets]
    values = work[n_assets : 2 * n_assets]
    changes = work[2 * n_assets : 3 * n_assets]
    weights = work[3 * n_assets : 3 * n_assets + n_classes]
    goals = work[3 * n_assets + n_classes : 3 * n_assets + 2 * n_classes]
    net = work[3 * n_assets + 2 * n_classes : 3 * n_assets + 3 * n_classes]
    rooms = work[3 * n_assets + 3 * n_classes : 3 * n_assets + 4 * n_classes]
    taken = work[3 * n_assets + 4 * n_classes : 3 * n_assets + 5 * n_classes]
    moving = flags[:n_classes]
    in_scope = flags[n_classes : 2 * n_classes]
    outside = flags[2 * n_classes : 3 * n_classes]
    for a in range(n_assets):
        holdings[a] = state[_at(ROW_HOLDINGS + a, j)]
    cash = state[_at(ROW_CASH, j)]
    fees = state[_at(ROW_FEES, j)]
    slip_total = state[_at(ROW_SLIPPAGE, j)]
    traded = state[_at(ROW_TRADED, j)]
    n_trades = int(state[_at(ROW_TRADES, j)])
    traded_now = False
    equity, distance, excess = 0.0, 0.0, -np.inf
    if t == 0:
        for a in range(n_assets):
            holdings[a] = 0.0
        cash, fees, slip_total, n_trades, traded_now = kernel.initial_purchase(
            close, first_column, holdings, class_of, split, targets, capital, taker_fee, slippage, no_index, no_values
        )
        state[_at(ROW_INITIAL_COST, j)] = fees + slip_total
    else:
        equity, distance, excess = kernel.valuate(
            close, first_column, t, holdings, class_of, cash, cash_class, targets, half_widths, 0, values, net, weights
        )
        if kernel.any_outside(weights, targets, half_widths, 0):
            rebalance_changes(
                weights,
                targets,
                half_widths[0],
                cash_class,
                scope_breached,
                band_edge,
                edge_cost,
                class_of,
                split,
                equity,
                values,
                changes,
                goals,
                moving,
                in_scope,
                rooms,
                taken,
                outside,
            )
            cash, fees, slip_total, traded, n_trades, traded_now = kernel.trade(
                close,
                first_column,
                t,
                holdings,
                changes,
                equity,
                cash,
                fees,
                slip_total,
                traded,
                n_trades,
                taker_fee,
                slippage,
                min_notional,
                no_index,
                no_values,
            )
            if traded_now:
                state[_at(ROW_REBALANCES, j)] += 1.0
    if t == 0 or traded_now:
        equity, distance, excess = kernel.valuate(
            close, first_column, t, holdings, class_of, cash, cash_class, targets, half_widths, 0, values, net, weights
        )
    for a in range(n_assets):
        state[_at(ROW_HOLDINGS + a, j)] = holdings[a]
    state[_at(ROW_CASH, j)] = cash
    state[_at(ROW_FEES, j)] = fees
    state[_at(ROW_SLIPPAGE, j)] = slip_total
    state[_at(ROW_TRADED, j)] = traded
    state[_at(ROW_TRADES, j)] = n_trades
    _set_curve(state, j, kernel_curve.accumulate(_curve(state, j), equity, t == 0))
    state[_at(ROW_INVERSE_PREVIOUS, j)] = 1.0 / equity
    state[_at(ROW_TRACKING, j)] += distance
    if excess > kernel.EDGE_TOLERANCE:
        state[_at(ROW_OUTSIDE, j)] += 1.0
    if excess > state[_at(ROW_LOOSE_MARGIN, j)]:
        state[_at(ROW_LOOSE, j)] += 1.0
    state[_at(ROW_EQUITY_SUM, j)] += equity


@njit(cache=True, nogil=True, error_model="numpy")
def simulate_block(
    close: np.ndarray,
    first_column: int,
    class_of: np.ndarray,
    split: np.ndarray,
    targets: np.ndarray,
    cash_class: int,
    capital: float,
    half_width_grid: np.ndarray,
    scope_breached: np.ndarray,
    band_edge: np.ndarray,
    costs: np.ndarray,
    first_run: int,
    out: np.ndarray,
    state: np.ndarray,
    work: np.ndarray,
    flags: np.ndarray,
    slots: np.ndarray,
    no_index: np.ndarray,
    no_values: np.ndarray,
) -> None:
    """Runs ``first_run`` to ``first_run + LANES - 1`` of a batch (those that exist) in lockstep.

    Parameters
    ----------
    close, first_column, class_of, split, targets, cash_class, capital:
        As in :func:`trimtab.backtest.kernel.simulate_window`, shared by every run.
    half_width_grid, scope_breached, band_edge, costs:
        Every run's half-widths (K, C), ``scope = "breached"`` and ``to = "band-edge"`` flags (K,) int64
        (non-zero: set), and
        taker fee, slippage, ``min_notional`` and band-edge cost rate (K, 4).
    first_run, out:
        The block's first run, and the (K, ``STAT_COUNT``) figures to write its runs' into.
    state, work, flags, slots:
        The block's state (:func:`block_floats` floats) and scratch space of one run (from
        :func:`trimtab.backtest.kernel.workspace`).
    no_index, no_values:
        Empty trade-log buffers, shapes (0, 2) and (0, 4).
    """
    n_bars = close.shape[0]
    n_runs = half_width_grid.shape[0]
    n_assets = class_of.shape[0]
    n_classes = targets.shape[0]
    class_asset = slots[:n_classes]
    for c in range(n_classes):
        class_asset[c] = -1
    for a in range(n_assets):
        if class_of[a] != cash_class:
            class_asset[class_of[a]] = a
    for i in range(state.shape[0]):
        state[i] = 0.0
    for t in range(n_bars):
        for j in range(LANES):
            if t > 0 and state[_at(ROW_TALLY, j)] == 0.0:
                continue
            k = min(first_run + j, n_runs - 1)
            if t == 0:
                for c in range(n_classes):
                    state[_at(ROW_HOLDINGS + n_assets + c, j)] = half_width_grid[k, c]
                state[_at(ROW_LOOSE_MARGIN, j)] = max(
                    costs[k, COST_TAKER_FEE] + costs[k, COST_SLIPPAGE], kernel.EDGE_TOLERANCE
                )
            _step(
                close,
                first_column,
                t,
                state,
                j,
                class_of,
                split,
                targets,
                half_width_grid[k : k + 1, :],
                cash_class,
                capital,
                costs[k, COST_TAKER_FEE],
                costs[k, COST_SLIPPAGE],
                costs[k, COST_MIN_NOTIONAL],
                costs[k, COST_EDGE],
                scope_breached[k] != 0,
                band_edge[k] != 0,
                work,
                flags,
                no_index,
                no_values,
            )
        if t + 1 < n_bars:
            _, safe = _value_block(
                close,
                first_column,
                t + 1,
                state,
                class_asset,
                targets,
                cash_class,
                n_assets,
                kernel.EDGE_TOLERANCE,
                False,
            )
            if not safe:
                _value_block(
                    close,
                    first_column,
                    t + 1,
                    state,
                    class_asset,
                    targets,
                    cash_class,
                    n_assets,
                    kernel.EDGE_TOLERANCE,
                    True,
                )
            full, deeper = _record_block(state, not safe)
            if deeper:
                _deepen(state)
            if full:
                _fold_full(state)
    for j in range(min(LANES, n_runs - first_run)):
        stats = out[first_run + j]
        stats[kernel.STAT_FINAL_EQUITY] = state[_at(ROW_PREVIOUS, j)]
        stats[kernel.STAT_FEES] = state[_at(ROW_FEES, j)]
        stats[kernel.STAT_SLIPPAGE] = state[_at(ROW_SLIPPAGE, j)]
        stats[kernel.STAT_TRADED_NOTIONAL] = state[_at(ROW_TRADED, j)]
        stats[kernel.STAT_REBALANCES] = state[_at(ROW_REBALANCES, j)]
        stats[kernel.STAT_TRADES] = state[_at(ROW_TRADES, j)]
        stats[kernel.STAT_TRACKING_SQUARED] = state[_at(ROW_TRACKING, j)]
        stats[kernel.STAT_OUTSIDE_BARS] = state[_at(ROW_OUTSIDE, j)]
        stats[kernel.STAT_OUTSIDE_BEYOND_COSTS] = state[_at(ROW_LOOSE, j)]
        stats[kernel.STAT_INITIAL_COST] = state[_at(ROW_INITIAL_COST, j)]
        stats[kernel.STAT_WITHIN_SQUARED] = 0.0
        stats[kernel.STAT_EQUITY_SUM] = state[_at(ROW_EQUITY_SUM, j)]
        count, mean, m2, downside, deepest = kernel_curve.figures(_curve(state, j))
        stats[kernel.STAT_RETURN_COUNT] = count
        stats[kernel.STAT_RETURN_MEAN] = mean
        stats[kernel.STAT_RETURN_M2] = m2
        stats[kernel.STAT_DOWNSIDE_SQUARED] = downside
        stats[kernel.STAT_MAX_DRAWDOWN] = deepest
