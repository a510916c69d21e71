"""The lockstep batch (runs bar by bar in blocks, quiet bars vectorised over runs) against run-by-run kernels.

A batch that records every run's equity curve takes each run through the kernel's main loop on its
own; the same batch recording nothing goes through :mod:`trimtab.backtest.kernel_lockstep`. Every figure
must agree to the last bit, over several blocks of runs with different bands, scopes, goals and costs,
on markets that breach many runs' bands on the same bars.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.backtest import kernel, kernel_batch, kernel_lockstep

DAY = 86_400 * 1_000_000_000


def _both(close: np.ndarray, grid: np.ndarray, settings_: np.ndarray, costs: np.ndarray) -> tuple[np.ndarray, ...]:
    n_bars, n_assets = close.shape
    runs = grid.shape[0]
    targets = np.full(n_assets + 1, 1.0 / (n_assets + 1))
    arguments = (
        close,
        0,
        np.arange(n_bars, dtype=np.int64) * DAY,
        np.arange(n_assets, dtype=np.int64),
        np.ones(n_assets),
        targets,
        n_assets,
        1e5,
        grid,
        settings_,
        costs,
    )
    lockstep = kernel_batch.simulate_batch(*arguments, np.zeros((runs, 0)), True)
    one_by_one = kernel_batch.simulate_batch(*arguments, np.zeros((runs, n_bars)), True)
    return lockstep, one_by_one


def _runs(rng: np.random.Generator, runs: int, n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    grid = rng.uniform(0.002, 0.15, (runs, n_classes))
    settings_ = np.zeros((runs, kernel_batch.RUN_SETTINGS), dtype=np.int64)
    settings_[:, kernel_batch.RUN_SCOPE_BREACHED] = rng.integers(0, 2, runs)
    settings_[:, kernel_batch.RUN_BAND_EDGE] = rng.integers(0, 2, runs)
    costs = np.zeros((runs, kernel_lockstep.RUN_COSTS))
    costs[:, kernel_lockstep.COST_TAKER_FEE] = rng.choice([0.0, 0.001, 0.0025], runs)
    costs[:, kernel_lockstep.COST_SLIPPAGE] = rng.choice([0.0, 0.0005], runs)
    costs[:, kernel_lockstep.COST_MIN_NOTIONAL] = rng.choice([0.0, 10.0, 500.0], runs)
    costs[:, kernel_lockstep.COST_EDGE] = (
        costs[:, kernel_lockstep.COST_TAKER_FEE] + costs[:, kernel_lockstep.COST_SLIPPAGE]
    )
    return grid, settings_, costs


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_assets=st.integers(1, 4),
    n_bars=st.integers(2, 300),
    runs=st.integers(1, 2 * kernel_lockstep.LANES + 5),
    volatility=st.sampled_from([0.005, 0.03, 0.1]),
)
def test_the_lockstep_batch_gives_every_run_its_own_kernels_figures(
    seed: int, n_assets: int, n_bars: int, runs: int, volatility: float
) -> None:
    rng = np.random.default_rng(seed)
    # Common jumps breach many runs' bands on the same bars.
    steps = rng.normal(0.0, volatility, (n_bars, n_assets)) + rng.normal(0.0, volatility, (n_bars, 1))
    close = 50.0 * np.exp(np.cumsum(steps, axis=0))
    lockstep, one_by_one = _both(close, *_runs(rng, runs, n_assets + 1))
    assert np.array_equal(lockstep, one_by_one)


def test_bars_whose_quotients_leave_the_reciprocals_range_are_divided_exactly() -> None:
    # An asset worth next to nothing for a stretch (its value below 2**-400, where a quotient through
    # the reciprocal could lose bits), bought back to target there and worth 1e206 when its price
    # returns (beyond 2**400): the lockstep divides those bars' weights and returns directly. The
    # returns' squared deviations overflow (NaN) in both, the same way.
    rng = np.random.default_rng(5)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.04, (400, 3)), axis=0))
    close[150:260, 1] = 1e-200
    grid, settings_, costs = _runs(rng, 2 * kernel_lockstep.LANES + 3, 4)
    lockstep, one_by_one = _both(close, grid, settings_, costs)
    assert np.array_equal(lockstep, one_by_one, equal_nan=True)
    assert lockstep[:, kernel.STAT_FINAL_EQUITY].min() > 1e200
    assert lockstep[:, kernel.STAT_REBALANCES].min() > 0
