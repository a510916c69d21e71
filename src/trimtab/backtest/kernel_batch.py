"""Many runs of the kernel over the same prices in one parallel call: the unit of work of a sweep.

Each run ``k`` has its own band half-widths, trigger (kind and period), ``scope`` and ``to`` flags and
costs (taker fee, constant slippage, ``min_notional``); prices, assets, classes and targets are shared.
Runs are independent, so the figures of run ``k`` are those of :func:`trimtab.backtest.kernel.simulate_window`
with the same arguments, to the last bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from trimtab.backtest import kernel_cache
from trimtab.backtest.kernel import (
    STAT_COUNT,
    TRIGGER_THRESHOLD,
    one_asset_per_class,
    simulate_window,
    workspace,
)
from trimtab.backtest.kernel_lockstep import (
    COST_EDGE,
    COST_MIN_NOTIONAL,
    COST_SLIPPAGE,
    COST_TAKER_FEE,
    LANES,
    block_floats,
    simulate_block,
)

RUN_TRIGGER_KIND = 0
RUN_PERIOD_NS = 1
RUN_SCOPE_BREACHED = 2
RUN_BAND_EDGE = 3
RUN_SETTINGS = 4
"""Columns of the per-run integer settings array (those of the cost array: ``COST_*``, from
:mod:`trimtab.backtest.kernel_lockstep`)."""


def simulate_batch(
    close: np.ndarray,
    first_column: int,
    timestamps: np.ndarray,
    class_of: np.ndarray,
    split: np.ndarray,
    targets: np.ndarray,
    cash_class: int,
    capital: float,
    half_width_grid: np.ndarray,
    settings: np.ndarray,
    costs: np.ndarray,
    equity_out: np.ndarray,
    track: bool,
) -> np.ndarray:
    """Replay the same prices under ``K`` policies that differ in bands, trigger, scope, goal and costs.

    Parameters
    ----------
    close, first_column, timestamps, class_of, split, targets, cash_class, capital:
        As in :func:`trimtab.backtest.kernel.simulate_window`, shared by every run.
    half_width_grid:
        Shape (K, C): the fixed band half-widths of run ``k``.
    settings:
        Shape (K, ``RUN_SETTINGS``) int64: trigger kind, period in ns, scope breached (0/1), band edge (0/1).
    costs:
        Shape (K, ``RUN_COSTS``): taker fee, slippage fraction, ``min_notional``, the band-edge goals' cost
        rate (``edge_cost`` of :func:`trimtab.backtest.kernel.simulate_window`).
    equity_out:
        Shape (K, T) to record every run's equity curve, or (K, 0) not to.
    track:
        Whether to compute each run's tracking error and time outside the bands (values every bar).

    Returns
    -------
    numpy.ndarray
        Shape (K, ``STAT_COUNT``): the ``STAT_*`` figures of each run.
    """
    buffers = batch_buffers(half_width_grid.shape[0], class_of.shape[0], targets.shape[0])
    return _simulate_batch(
        close,
        first_column,
        timestamps,
        class_of,
        split,
        targets,
        cash_class,
        capital,
        half_width_grid,
        settings,
        costs,
        equity_out,
        track,
        *buffers,
    )


@njit(cache=True, parallel=True, error_model="numpy")
def _simulate_batch(
    close: np.ndarray,
    first_column: int,
    timestamps: np.ndarray,
    class_of: np.ndarray,
    split: np.ndarray,
    targets: np.ndarray,
    cash_class: int,
    capital: float,
    half_width_grid: np.ndarray,
    settings: np.ndarray,
    costs: np.ndarray,
    equity_out: np.ndarray,
    track: bool,
    out: np.ndarray,
    work: np.ndarray,
    flags: np.ndarray,
    slots: np.ndarray,
    empty: np.ndarray,
    empty_flags: np.ndarray,
    empty_weights: np.ndarray,
    no_index: np.ndarray,
    no_values: np.ndarray,
    blocks: np.ndarray,
) -> np.ndarray:
    """:func:`simulate_batch` on buffers from :func:`batch_buffers` (``out`` is returned): each run's scratch
    space (one row a run) and the empty outputs the runs record nothing into, so the kernel allocates nothing."""
    n_runs = half_width_grid.shape[0]
    if _in_lockstep(close, class_of, targets, cash_class, settings, equity_out, track):
        for b in prange(blocks.shape[0]):
            first = b * LANES
            simulate_block(
                close,
                first_column,
                class_of,
                split,
                targets,
                cash_class,
                capital,
                half_width_grid,
                settings[:, RUN_SCOPE_BREACHED],
                settings[:, RUN_BAND_EDGE],
                costs,
                first,
                out,
                blocks[b],
                work[first],
                flags[first],
                slots[first],
                no_index,
                no_values,
            )
        return out
    for k in prange(n_runs):
        stats = simulate_window(
            close,
            first_column,
            timestamps,
            class_of,
            split,
            targets,
            half_width_grid[k : k + 1, :],
            cash_class,
            capital,
            costs[k, COST_TAKER_FEE],
            costs[k, COST_SLIPPAGE],
            costs[k, COST_MIN_NOTIONAL],
            settings[k, RUN_TRIGGER_KIND],
            settings[k, RUN_PERIOD_NS],
            settings[k, RUN_SCOPE_BREACHED] != 0,
            settings[k, RUN_BAND_EDGE] != 0,
            equity_out[k],
            empty_weights,
            empty,
            empty,
            empty_flags,
            no_index,
            no_values,
            work[k],
            flags[k],
            slots[k],
            track,
            costs[k, COST_EDGE],
        )
        out[k, :] = stats
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _in_lockstep(
    close: np.ndarray,
    class_of: np.ndarray,
    targets: np.ndarray,
    cash_class: int,
    settings: np.ndarray,
    equity_out: np.ndarray,
    track: bool,
) -> bool:
    """Whether the batch's runs go through :func:`trimtab.backtest.kernel_lockstep.simulate_block`: tracked,
    recording no curve, threshold-triggered, one asset per class, over at least one bar."""
    if not track or equity_out.shape[1] > 0 or close.shape[0] == 0:
        return False
    if not one_asset_per_class(class_of, targets.shape[0], cash_class):
        return False
    others = 0
    for k in range(settings.shape[0]):
        others += settings[k, RUN_TRIGGER_KIND] != TRIGGER_THRESHOLD
    return others == 0


def batch_buffers(n_runs: int, n_assets: int, n_classes: int) -> tuple[np.ndarray, ...]:
    """The arrays :func:`simulate_batch` takes after ``track``, for ``n_runs`` runs."""
    return (
        np.zeros((n_runs, STAT_COUNT)),
        *workspace(n_assets, n_classes, n_runs),
        np.zeros(0),
        np.zeros(0, dtype=np.uint8),
        np.zeros((0, n_classes)),
        np.zeros((0, 2), dtype=np.int64),
        np.zeros((0, 4)),
        np.zeros(((n_runs + LANES - 1) // LANES, block_floats(n_assets, n_classes))),
    )


kernel_cache.load_quickly(_simulate_batch)
