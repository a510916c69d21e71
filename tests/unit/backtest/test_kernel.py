"""The kernel on tiny hand-made markets, and the band-width sweep against single runs."""

from __future__ import annotations

import numpy as np
import pytest

from trimtab.backtest import kernel, kernel_batch

DAY = 86_400 * 1_000_000_000


def _run(close: np.ndarray, half_width: float, fee: float = 0.001, slippage: float = 0.0, **flags: object) -> tuple:
    n_bars = close.shape[0]
    equity, fees, slip = np.zeros(n_bars), np.zeros(n_bars), np.zeros(n_bars)
    weights = np.zeros((n_bars, 2))
    flags_out = np.zeros(n_bars, dtype=np.uint8)
    index = np.zeros((100, 2), dtype=np.int64)
    values = np.zeros((100, 4))
    stats = kernel.simulate(
        close,
        np.arange(n_bars, dtype=np.int64) * DAY,
        np.array([0], dtype=np.int64),
        np.array([1.0]),
        np.array([0.5, 0.5]),
        np.array([[half_width, half_width]]),
        1,
        1000.0,
        fee,
        slippage,
        float(flags.get("min_notional", 0.0)),
        int(flags.get("trigger", kernel.TRIGGER_THRESHOLD)),
        int(flags.get("period", 0)),
        bool(flags.get("scope_breached", False)),
        bool(flags.get("band_edge", False)),
        equity,
        weights,
        fees,
        slip,
        flags_out,
        index,
        values,
        False,
        float(flags.get("edge_cost", 0.0)),
    )
    count = int(stats[kernel.STAT_TRADES])
    return stats, index[:count], values[:count], equity, weights, fees


def test_a_doubling_price_breaches_and_is_sold_back_to_target_by_hand() -> None:
    # 50/50 BTC/cash at 100; BTC doubles: weight 2/3 > 0.5 + 0.1, so sell back to 50 %.
    close = np.array([[100.0], [200.0]])
    stats, index, values, equity, weights, fees = _run(close, 0.1)
    bought = 500.0 / 100.0
    cash = 1000.0 - 500.0 - 0.5
    equity_before = cash + bought * 200.0  # 1499.5
    sell_value = bought * 200.0 - 0.5 * equity_before
    assert values[1, 0] == pytest.approx(-sell_value / 200.0)
    assert values[1, 2] == pytest.approx(0.001 * sell_value)
    assert equity[1] == pytest.approx(equity_before - 0.001 * sell_value)
    assert weights[1, 0] == pytest.approx(0.5 * equity_before / equity[1])
    assert stats[kernel.STAT_REBALANCES] == 1
    assert stats[kernel.STAT_TRADED_NOTIONAL] == pytest.approx(sell_value)
    assert fees[1] == pytest.approx(0.5 + 0.001 * sell_value)
    assert index.tolist() == [[0, 0], [1, 0]]


def test_band_edge_stops_at_the_edge_and_slippage_moves_the_fill_price() -> None:
    close = np.array([[100.0], [200.0]])
    _, _, values, _, weights, _ = _run(close, 0.1, fee=0.0, slippage=0.001, band_edge=True)
    assert weights[1, 0] == pytest.approx(0.6, rel=1e-3)  # the upper edge, moved only by slippage
    assert values[1, 1] == pytest.approx(200.0 * (1 - 0.001))
    assert values[0, 1] == pytest.approx(100.0 * (1 + 0.001))


def test_a_band_edge_sale_lands_inside_the_band_after_its_costs() -> None:
    # 5 BTC bought at 100 x 1.0005 with the 0.1 % fee leave 1000 - 500.25 - 0.50025 of cash; BTC doubles: 1,000 of
    # 1,499.24975, 66.7 %, above 60 %. Priced at r = 0.0015, the sale that lands on 60 % after its costs is
    # x = (1,000 - 0.6 E) / (1 - 0.6 r). The fill costs 5 bp of slippage and the fee on 200 x 0.9995.
    close = np.array([[100.0], [200.0]])
    _, _, values, equity, weights, _ = _run(close, 0.1, fee=0.001, slippage=0.0005, band_edge=True, edge_cost=0.0015)
    before = 1000.0 - 500.25 - 0.50025 + 1000.0
    sale = (1000.0 - 0.6 * before) / (1.0 - 0.6 * 0.0015)
    assert values[1, 0] == pytest.approx(-sale / 200.0, rel=1e-12)
    after = before - sale * 0.0005 - sale * 0.9995 * 0.001
    assert equity[1] == pytest.approx(after, rel=1e-12)
    assert weights[1, 0] == pytest.approx((1000.0 - sale) / after, rel=1e-12)
    assert weights[1, 0] <= 0.6


def test_calendar_rebalances_every_period_even_inside_the_band() -> None:
    close = np.array([[100.0], [101.0], [102.0], [103.0], [104.0]])
    stats, index, *_ = _run(close, 0.4, trigger=kernel.TRIGGER_CALENDAR, period=2 * DAY)
    assert stats[kernel.STAT_REBALANCES] == 2
    assert sorted({int(bar) for bar in index[:, 0]}) == [0, 2, 4]


def test_min_notional_drops_small_trades() -> None:
    close = np.array([[100.0], [130.0]])
    stats, *_ = _run(close, 0.01, min_notional=1000.0)
    assert stats[kernel.STAT_REBALANCES] == 0


def _batch(
    close: np.ndarray, times: np.ndarray, grid: np.ndarray, trigger: int, period: int, track: bool
) -> np.ndarray:
    runs = grid.shape[0]
    settings = np.zeros((runs, kernel_batch.RUN_SETTINGS), dtype=np.int64)
    settings[:, kernel_batch.RUN_TRIGGER_KIND] = trigger
    settings[:, kernel_batch.RUN_PERIOD_NS] = period
    costs = np.tile([0.001, 0.0005, 10.0, 0.0015], (runs, 1))
    return kernel_batch.simulate_batch(
        close,
        0,
        times,
        np.array([0, 1, 2], dtype=np.int64),
        np.ones(3),
        np.array([0.3, 0.3, 0.2, 0.2]),
        3,
        1e5,
        grid,
        settings,
        costs,
        np.zeros((runs, 0)),
        track,
    )


def test_the_batched_sweep_gives_each_single_runs_figures() -> None:
    rng = np.random.default_rng(3)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03, (500, 3)), axis=0))
    times = np.arange(500, dtype=np.int64) * DAY
    class_of = np.array([0, 1, 2], dtype=np.int64)
    split = np.ones(3)
    targets = np.array([0.3, 0.3, 0.2, 0.2])
    grid = np.array([[w] * 4 for w in (0.01, 0.05, 0.1, 0.2)])
    batch = _batch(close, times, grid, 0, 0, True)
    empty = np.zeros(0)
    for k in range(grid.shape[0]):
        single = kernel.simulate(
            close,
            times,
            class_of,
            split,
            targets,
            grid[k : k + 1],
            3,
            1e5,
            0.001,
            0.0005,
            10.0,
            0,
            0,
            False,
            False,
            empty,
            np.zeros((0, 4)),
            empty,
            empty,
            np.zeros(0, dtype=np.uint8),
            np.zeros((0, 2), dtype=np.int64),
            np.zeros((0, 4)),
            True,
        )
        assert np.array_equal(batch[k], single)
    # Without tracking, quiet bars are skipped in a tight scan: the same runs, the same figures.
    for trigger, period in (
        (kernel.TRIGGER_THRESHOLD, 0),
        (kernel.TRIGGER_HYBRID, 3 * DAY),
        (kernel.TRIGGER_CALENDAR, 30 * DAY),
    ):
        tracked = _batch(close, times, grid, trigger, period, True)
        scanned = _batch(close, times, grid, trigger, period, False)
        for stat in (kernel.STAT_FINAL_EQUITY, kernel.STAT_FEES, kernel.STAT_REBALANCES, kernel.STAT_TRADES):
            assert np.array_equal(tracked[:, stat], scanned[:, stat])
        assert np.allclose(tracked[:, kernel.STAT_EQUITY_SUM], scanned[:, kernel.STAT_EQUITY_SUM], rtol=1e-12)
    rebalances = batch[:, kernel.STAT_REBALANCES]
    assert rebalances[0] > rebalances[1] > rebalances[2] >= rebalances[3]


def test_a_tracked_run_values_its_quiet_bars_in_a_tight_loop_to_the_same_bits() -> None:
    # A tracked run that records nothing per bar takes its quiet bars in kernel_track's loop; one that
    # records its equity takes every bar in the main loop. Every figure must agree to the last bit.
    rng = np.random.default_rng(11)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (800, 3)), axis=0))
    times = np.arange(800, dtype=np.int64) * DAY
    grid = np.array([[w] * 4 for w in (0.005, 0.03, 0.08)])
    for trigger, period in (
        (kernel.TRIGGER_THRESHOLD, 0),
        (kernel.TRIGGER_HYBRID, 5 * DAY),
        (kernel.TRIGGER_CALENDAR, 40 * DAY),
    ):
        runs = grid.shape[0]
        settings = np.zeros((runs, kernel_batch.RUN_SETTINGS), dtype=np.int64)
        settings[:, kernel_batch.RUN_TRIGGER_KIND] = trigger
        settings[:, kernel_batch.RUN_PERIOD_NS] = period
        costs = np.tile([0.001, 0.0005, 10.0, 0.0015], (runs, 1))
        arguments = (close, 0, times, np.array([0, 1, 2]), np.ones(3), np.array([0.3, 0.3, 0.2, 0.2]), 3, 1e5, grid)
        quick = kernel_batch.simulate_batch(*arguments, settings, costs, np.zeros((runs, 0)), True)
        recorded = kernel_batch.simulate_batch(*arguments, settings, costs, np.zeros((runs, 800)), True)
        assert np.array_equal(quick, recorded), trigger
        assert quick[:, kernel.STAT_REBALANCES].min() > 0


def test_a_workspace_too_small_for_the_policy_is_refused() -> None:
    close = np.array([[100.0], [200.0]])
    work, flags, slots = kernel.workspace(1, 2)
    with pytest.raises(ValueError, match="workspace"):
        kernel.simulate_window(
            close,
            0,
            np.arange(2, dtype=np.int64) * DAY,
            np.array([0], dtype=np.int64),
            np.array([1.0]),
            np.array([0.5, 0.5]),
            np.array([[0.1, 0.1]]),
            1,
            1000.0,
            0.001,
            0.0,
            0.0,
            0,
            0,
            False,
            False,
            np.zeros(0),
            np.zeros((0, 2)),
            np.zeros(0),
            np.zeros(0),
            np.zeros(0, dtype=np.uint8),
            np.zeros((0, 2), dtype=np.int64),
            np.zeros((0, 4)),
            work[:-1],
            flags,
            slots,
        )
