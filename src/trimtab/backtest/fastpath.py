"""When the Numba kernel may replace the event engine, and how a run is turned into arrays and back.

The fast path is taken for a policy that:

* trades spot only (``[rebalance] instrument = "spot"``) with the ``fixed`` strategy;
* uses a ``threshold``, ``calendar`` or ``hybrid`` trigger (adaptive bands allowed);
* pays a constant slippage fraction (no volume-dependent impact) and the policy's taker fee.

Such a run never holds a derivative, so funding, margin and liquidation cannot arise; the kernel
reproduces the planner's goals, sizing and ``min_notional`` rule exactly (see
:mod:`trimtab.backtest.kernel`), and a test holds both paths to the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from trimtab.backtest import kernel
from trimtab.backtest.kernel_batch import simulate_batch
from trimtab.backtest.metrics import RunTotals
from trimtab.backtest.replay import FloatArray, Replay, buy_and_hold
from trimtab.backtest.result import BacktestResult, Benchmark, Curves, Lazy
from trimtab.backtest.trades import TradeLog, iso_times
from trimtab.feed.table import NS_PER_SECOND
from trimtab.planner.costs import CostModel
from trimtab.venues.simulation.models import RealityModels
from trimtab.venues.simulation.slippage import BarConditions

_TRIGGER_KINDS = {
    "threshold": kernel.TRIGGER_THRESHOLD,
    "calendar": kernel.TRIGGER_CALENDAR,
    "hybrid": kernel.TRIGGER_HYBRID,
}


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Whether the fast path applies, and if not, why."""

    allowed: bool
    reason: str = ""


def eligibility(replay: Replay, models: RealityModels) -> Eligibility:
    """Whether ``replay`` can run on the kernel with ``models`` (reasons in the module docstring)."""
    policy = replay.policy
    if policy.strategy.kind != "fixed":
        return Eligibility(False, f"strategy {policy.strategy.kind!r} needs the event engine")
    if policy.rebalance.instrument != "spot":
        return Eligibility(False, f"instrument {policy.rebalance.instrument!r} may trade derivatives")
    if any(c.band_auto for c in policy.classes):
        return Eligibility(False, "bands from costs (band = 'auto') need the event engine")
    if policy.trigger.kind not in _TRIGGER_KINDS:
        return Eligibility(False, f"trigger {policy.trigger.kind!r} needs the event engine")
    if policy.cash_flows:
        return Eligibility(False, "cash flows ([[cash_flow]]) need the event engine")
    if not models.slippage.constant:
        return Eligibility(False, "slippage depends on volume")
    if models.fees != RealityModels.from_costs(policy.costs).fees or models.backtest_fill.value != policy.costs.fill:
        return Eligibility(False, "the fee model differs from the policy's costs")
    return Eligibility(True)


def spot_fee_rate(replay: Replay) -> float:
    """The fee rate of the kernel's spot fills: the spot rate of the policy's expected fill."""
    return replay.policy.costs.fee_rate("spot")


def edge_cost_rate(replay: Replay) -> float:
    """The planner's spot fee plus slippage per unit of notional, which band-edge goals land inside after."""
    return CostModel.from_config(replay.policy.costs).rate("spot")


def kernel_slippage(replay: Replay, models: RealityModels) -> float:
    """The kernel's slippage fraction: the constant model's, or none for a maker fill (it rests at the close)."""
    return 0.0 if replay.policy.costs.fill == "maker" else constant_slippage(models)


def constant_slippage(models: RealityModels) -> float:
    """The slippage fraction of a constant model."""
    return models.slippage.fraction(1.0, BarConditions())


def band_half_widths(replay: Replay) -> FloatArray:
    """Half-widths per bar (T, C) for adaptive bands, or the fixed ones as (1, C).

    Adaptive half-widths follow :func:`trimtab.policy.bands.class_bands` with each bar's realised
    volatility (the event engine passes the same numbers to the planner): the class's volatility is its
    assets' volatilities weighted by the split over the assets that have one, and the half-width
    ``clip(fixed x vol / reference_vol, min_band, max_band)``. The arithmetic is the bands module's, in
    the same order, applied to whole columns, so the bands are identical to the last bit.
    """
    fixed = replay.half_widths[None, :]
    adaptive = replay.policy.trigger.adaptive
    if adaptive is None or replay.volatility is None:
        return np.ascontiguousarray(fixed)
    n_bars = replay.times.shape[0]
    out = np.repeat(fixed, n_bars, axis=0)
    for index, asset_class in enumerate(replay.classes):
        if asset_class.cash:
            continue
        weighted = np.zeros(n_bars)
        total = np.zeros(n_bars)
        known_any = np.zeros(n_bars, dtype=bool)
        for a in range(len(replay.assets)):
            if replay.class_of[a] != index:
                continue
            vol = replay.volatility[:, a]
            known = np.isfinite(vol)
            weight = float(asset_class.weights.get(replay.assets[a], 0.0))
            weighted = np.where(known, weighted + weight * np.where(known, vol, 0.0), weighted)
            total = np.where(known, total + weight, total)
            known_any |= known
        usable = known_any & (total > 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            class_vol = weighted / total
        scaled = replay.half_widths[index] * class_vol / adaptive.reference_vol
        clipped = np.minimum(np.maximum(scaled, adaptive.min_band), adaptive.max_band)
        out[:, index] = np.where(usable, clipped, out[:, index])
    return np.ascontiguousarray(out)


def kernel_arguments(replay: Replay) -> tuple[int, int, bool, bool]:
    """Trigger kind, its period in ns, and the scope / goal flags of the policy."""
    trigger = replay.policy.trigger
    period = trigger.period
    period_ns = int(period.total_seconds() * NS_PER_SECOND) if period is not None else 0
    rebalance = replay.policy.rebalance
    return _TRIGGER_KINDS[trigger.kind], period_ns, rebalance.scope == "breached", rebalance.to == "band-edge"


def run_fast(replay: Replay, capital: float, models: RealityModels, config_hash: str) -> BacktestResult:
    """One backtest on the kernel, returned in the same shape as the event engine's.

    The kernel runs once without per-bar records (its quiet bars skipped in a tight scan), keeping the
    run's totals and its trade log; the per-bar curves come from a second, recording run only when they
    are read (:class:`trimtab.backtest.result.Lazy`), and so do the metrics and the benchmark.
    """
    run = KernelRun(replay, float(capital), models)
    stats, trade_index, trade_values = run.trades()
    totals = RunTotals(
        rebalances=int(stats[kernel.STAT_REBALANCES]),
        traded_notional=float(stats[kernel.STAT_TRADED_NOTIONAL]),
        fees=float(stats[kernel.STAT_FEES]),
        slippage=float(stats[kernel.STAT_SLIPPAGE]),
    )
    trade_bars = trade_index[:, 0]
    initial = trade_bars == 0
    # summed in the kernel's order, so the figures equal its running totals after the first bar
    bench_totals = RunTotals(
        fees=sum(trade_values[initial, 2].tolist(), 0.0), slippage=sum(trade_values[initial, 3].tolist(), 0.0)
    )
    totals = replace(totals, initial_cost=bench_totals.fees + bench_totals.slippage)
    rebalance_bars = Lazy(lambda: np.unique(trade_bars))
    return BacktestResult(
        timestamps=replay.times,
        class_names=replay.class_names,
        rebalance_times=Lazy(lambda: replay.times[rebalance_bars.get()]),
        trades=trade_log(replay, trade_index, trade_values),
        events=Lazy(lambda: _trigger_events(replay, rebalance_bars.get())),
        used_fast_path=True,
        config_hash=config_hash,
        base_currency=replay.base_currency,
        curves=Lazy(run.curves),
        benchmark=Lazy(lambda: _benchmark(replay, capital, trade_index, trade_values, bench_totals.fees)),
        capital=float(capital),
        totals=totals,
        benchmark_totals=bench_totals,
        tax_rules=replay.policy.tax_rules(),
        final_equity=float(stats[kernel.STAT_FINAL_EQUITY]),
        band_tolerance=replay.policy.costs.taker_fee + replay.policy.costs.slippage,
        replay=replay,
    )


class KernelRun:
    """The kernel's arguments for one replay, and its two ways of running."""

    def __init__(self, replay: Replay, capital: float, models: RealityModels) -> None:
        self.replay = replay
        self.capital = capital
        self.slippage = kernel_slippage(replay, models)
        self.half_widths = band_half_widths(replay)
        self.flags = kernel_arguments(replay)

    def _simulate(
        self,
        equity: FloatArray,
        weights: FloatArray,
        fees: FloatArray,
        slippage: FloatArray,
        rebalanced: np.ndarray,
        trade_index: np.ndarray,
        trade_values: FloatArray,
    ) -> FloatArray:
        replay = self.replay
        trigger_kind, period_ns, scope_breached, band_edge = self.flags
        return kernel.simulate_window(
            replay.prices,
            replay.first_column,
            replay.times,
            replay.class_of,
            replay.split,
            replay.targets,
            self.half_widths,
            replay.cash_index,
            self.capital,
            spot_fee_rate(replay),
            self.slippage,
            replay.policy.rebalance.min_notional,
            trigger_kind,
            period_ns,
            scope_breached,
            band_edge,
            equity,
            weights,
            fees,
            slippage,
            rebalanced,
            trade_index,
            trade_values,
            *kernel.workspace(len(replay.assets), len(replay.classes)),
            False,
            edge_cost_rate(replay),
        )

    def trades(self) -> tuple[FloatArray, np.ndarray, FloatArray]:
        """The run's ``STAT_*`` figures and its trade log (bar, asset) and (amount, price, fee, slippage)."""
        n_bars, n_assets = self.replay.times.shape[0], len(self.replay.assets)
        nothing = np.zeros(0)
        no_weights = np.zeros((0, len(self.replay.classes)))
        capacity = min(max(64, n_bars // 16) * (n_assets + 1), MAX_TRADE_BUFFER)
        while True:
            trade_index = np.empty((capacity, 2), dtype=np.int64)
            trade_values = np.empty((capacity, 4))
            stats = self._simulate(
                nothing, no_weights, nothing, nothing, np.zeros(0, dtype=np.uint8), trade_index, trade_values
            )
            count = int(stats[kernel.STAT_TRADES])
            if count <= capacity:
                return stats, trade_index[:count], trade_values[:count]
            capacity = count  # the log did not fit: run again with room for every trade

    def curves(self) -> Curves:
        """Every bar's equity, weights, bands and cumulative costs (a second, recording run)."""
        replay = self.replay
        n_bars, n_classes = replay.times.shape[0], len(replay.classes)
        equity = np.empty(n_bars)
        weights = np.empty((n_bars, n_classes))
        fees = np.empty(n_bars)
        slip = np.empty(n_bars)
        self._simulate(
            equity,
            weights,
            fees,
            slip,
            np.empty(n_bars, dtype=np.uint8),
            np.empty((0, 2), dtype=np.int64),
            np.empty((0, 4)),
        )
        bands = np.broadcast_to(self.half_widths, (n_bars, n_classes))
        return Curves(
            equity=equity,
            weights=weights,
            band_lower=replay.targets[None, :] - bands,
            band_upper=replay.targets[None, :] + bands,
            targets=np.broadcast_to(replay.targets, (n_bars, n_classes)),
            fees=fees,
            slippage=slip,
            funding=np.zeros(n_bars),
        )


MAX_TRADE_BUFFER = 1 << 20
"""Rows of the first trade buffer at most (48 MiB); a longer log runs the kernel again with room for it."""


def _benchmark(
    replay: Replay, capital: float, trade_index: np.ndarray, trade_values: FloatArray, initial_fees: float
) -> Benchmark:
    initial = trade_index[:, 0] == 0
    amounts = np.zeros(len(replay.assets))
    amounts[trade_index[initial, 1]] = trade_values[initial, 0]
    cash = capital - float(np.sum(trade_values[initial, 0] * trade_values[initial, 1])) - initial_fees
    equity, weights = buy_and_hold(replay, amounts, cash)
    return Benchmark(equity, weights)


def _trigger_events(replay: Replay, bars: np.ndarray) -> list[dict[str, Any]]:
    later = bars[bars > 0]
    texts = iso_times(replay.times[later])
    return [
        {"kind": "trigger", "timestamp": text, "reason": "rebalanced", "bar": bar}
        for bar, text in zip(later.tolist(), texts, strict=True)
    ]


def trade_log(replay: Replay, index: np.ndarray, values: FloatArray) -> TradeLog:
    base, names = replay.base_currency, replay.class_names
    labels = [(names[int(replay.class_of[a])], f"{asset}/{base}", "spot") for a, asset in enumerate(replay.assets)]
    signed, price = values[:, 0], values[:, 1]
    return TradeLog(
        times=replay.times[index[:, 0]],
        labels=labels,
        label_index=index[:, 1],
        signed_amount=signed,
        price=price,
        notional=np.abs(signed) * price,
        fee=values[:, 2],
        slippage=values[:, 3],
    )


@dataclass(frozen=True)
class SweepResult:
    """Figures of each run of a band-width sweep (one row per half-width set)."""

    half_widths: FloatArray
    final_equity: FloatArray
    fees: FloatArray
    slippage: FloatArray
    turnover: FloatArray
    rebalances: FloatArray
    tracking_error: FloatArray
    time_outside_bands: FloatArray
    equity: FloatArray | None


def sweep_band_widths(
    replay: Replay,
    capital: float,
    half_width_sets: Sequence[Sequence[float]] | FloatArray,
    models: RealityModels | None = None,
    record_equity: bool = False,
    track: bool = True,
) -> SweepResult:
    """Run the same policy with many fixed band half-widths in one parallel kernel call.

    Parameters
    ----------
    replay:
        The policy and history (its own bands are ignored; adaptive bands are not swept).
    capital:
        Starting capital of every run.
    half_width_sets:
        Shape (K, C): run ``k`` uses half-width ``half_width_sets[k, c]`` for class ``c``.
    models:
        Reality models (constant slippage); the policy's costs when None.
    record_equity:
        Also return every run's equity curve, shape (K, T).
    track:
        Compute tracking error and time outside the bands (every bar's weights are valued; about
        twice the work). Without it those two figures are NaN.

    Returns
    -------
    SweepResult
        Per run: final equity, fees, slippage, turnover, rebalances, tracking error, time outside bands.

    Raises
    ------
    ValueError
        If the policy or models do not allow the fast path.
    """
    models = models or RealityModels.from_costs(replay.policy.costs)
    allowed = eligibility(replay, models)
    if not allowed.allowed:
        raise ValueError(f"a band sweep needs the fast path: {allowed.reason}")
    grid = np.ascontiguousarray(np.asarray(half_width_sets, dtype=np.float64))
    if grid.ndim != 2 or grid.shape[1] != len(replay.classes):
        raise ValueError(f"half_width_sets must have shape (K, {len(replay.classes)})")
    trigger_kind, period_ns, scope_breached, band_edge = kernel_arguments(replay)
    n_bars, runs = replay.times.shape[0], grid.shape[0]
    settings = np.tile(
        np.array([trigger_kind, period_ns, int(scope_breached), int(band_edge)], dtype=np.int64), (runs, 1)
    )
    costs = np.tile(
        np.array(
            [
                spot_fee_rate(replay),
                kernel_slippage(replay, models),
                replay.policy.rebalance.min_notional,
                edge_cost_rate(replay),
            ]
        ),
        (runs, 1),
    )
    equity = np.zeros((runs, n_bars if record_equity else 0))
    stats = simulate_batch(
        replay.prices,
        replay.first_column,
        replay.times,
        replay.class_of,
        replay.split,
        replay.targets,
        replay.cash_index,
        float(capital),
        grid,
        settings,
        costs,
        equity,
        track,
    )
    mean_equity = stats[:, kernel.STAT_EQUITY_SUM] / n_bars
    return SweepResult(
        half_widths=grid,
        final_equity=stats[:, kernel.STAT_FINAL_EQUITY].copy(),
        fees=stats[:, kernel.STAT_FEES].copy(),
        slippage=stats[:, kernel.STAT_SLIPPAGE].copy(),
        turnover=stats[:, kernel.STAT_TRADED_NOTIONAL] / mean_equity,
        rebalances=stats[:, kernel.STAT_REBALANCES].copy(),
        tracking_error=np.sqrt(stats[:, kernel.STAT_TRACKING_SQUARED] / n_bars)
        if track
        else np.full(len(grid), np.nan),
        time_outside_bands=stats[:, kernel.STAT_OUTSIDE_BEYOND_COSTS] / n_bars if track else np.full(len(grid), np.nan),
        equity=equity if record_equity else None,
    )
