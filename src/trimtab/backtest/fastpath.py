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
from dataclasses import dataclass
from typing import Any

import numpy as np

from trimtab.backtest import kernel
from trimtab.backtest.metrics import RunTotals, compute_metrics
from trimtab.backtest.replay import FloatArray, Replay, buy_and_hold
from trimtab.backtest.result import BacktestResult
from trimtab.feed.table import NS_PER_SECOND
from trimtab.venues.simulation.fees import FeeModel
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
    if policy.trigger.kind not in _TRIGGER_KINDS:
        return Eligibility(False, f"trigger {policy.trigger.kind!r} needs the event engine")
    if not models.slippage.constant:
        return Eligibility(False, "slippage depends on volume")
    if models.fees != FeeModel(policy.costs.taker_fee, policy.costs.maker_fee):
        return Eligibility(False, "the fee model differs from the policy's costs")
    return Eligibility(True)


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
    """One backtest on the kernel, returned in the same shape as the event engine's."""
    costs = replay.policy.costs
    slippage = constant_slippage(models)
    half_widths = band_half_widths(replay)
    trigger_kind, period_ns, scope_breached, band_edge = kernel_arguments(replay)
    n_bars, n_classes = replay.times.shape[0], len(replay.classes)
    equity = np.zeros(n_bars)
    weights = np.zeros((n_bars, n_classes))
    fees = np.zeros(n_bars)
    slip = np.zeros(n_bars)
    rebalanced = np.zeros(n_bars, dtype=np.uint8)
    capacity = 64 * (len(replay.assets) + 1)
    while True:
        trade_index = np.zeros((capacity, 2), dtype=np.int64)
        trade_values = np.zeros((capacity, 4))
        stats = kernel.simulate(
            replay.close,
            replay.times,
            replay.class_of,
            replay.split,
            replay.targets,
            half_widths,
            replay.cash_index,
            float(capital),
            costs.taker_fee,
            slippage,
            replay.policy.rebalance.min_notional,
            trigger_kind,
            period_ns,
            scope_breached,
            band_edge,
            equity,
            weights,
            fees,
            slip,
            rebalanced,
            trade_index,
            trade_values,
        )
        count = int(stats[kernel.STAT_TRADES])
        if count <= capacity:
            break
        capacity = count  # the log did not fit: run again with room for every trade
    trade_index, trade_values = trade_index[:count], trade_values[:count]
    bands = np.broadcast_to(half_widths, (n_bars, n_classes))
    lower = replay.targets[None, :] - bands
    upper = replay.targets[None, :] + bands
    targets = np.broadcast_to(replay.targets, (n_bars, n_classes)).copy()
    trades = _trade_records(replay, trade_index, trade_values)
    rebalance_bars = np.flatnonzero(rebalanced)
    events: list[dict[str, Any]] = [
        {"kind": "trigger", "timestamp": _iso(replay, int(bar)), "reason": "rebalanced", "bar": int(bar)}
        for bar in rebalance_bars
        if bar > 0
    ]
    totals = RunTotals(
        rebalances=int(stats[kernel.STAT_REBALANCES]),
        traded_notional=float(stats[kernel.STAT_TRADED_NOTIONAL]),
        fees=float(stats[kernel.STAT_FEES]),
        slippage=float(stats[kernel.STAT_SLIPPAGE]),
    )
    metrics = compute_metrics(equity, replay.times, capital, totals, weights, targets, lower, upper)
    initial = trade_index[:, 0] == 0
    amounts = np.zeros(len(replay.assets))
    amounts[trade_index[initial, 1]] = trade_values[initial, 0]
    initial_cash = capital - float(np.sum(trade_values[initial, 0] * trade_values[initial, 1])) - float(fees[0])
    bench_equity, bench_weights = buy_and_hold(replay, amounts, initial_cash)
    bench_totals = RunTotals(fees=float(fees[0]), slippage=float(slip[0]))
    bench_metrics = compute_metrics(
        bench_equity, replay.times, capital, bench_totals, bench_weights, targets, lower, upper
    )
    return BacktestResult(
        timestamps=replay.times.copy(),
        equity=equity,
        benchmark_equity=bench_equity,
        class_names=replay.class_names,
        weights=weights,
        band_lower=np.ascontiguousarray(lower),
        band_upper=np.ascontiguousarray(upper),
        rebalance_times=replay.times[rebalance_bars].copy(),
        trades=trades,
        fees=fees,
        slippage=slip,
        funding=np.zeros(n_bars),
        events=events,
        metrics=metrics,
        benchmark_metrics=bench_metrics,
        used_fast_path=True,
        config_hash=config_hash,
        targets=targets,
        base_currency=replay.base_currency,
    )


def _iso(replay: Replay, bar: int) -> str:
    return replay.moment(bar).isoformat().replace("+00:00", "Z")


def _trade_records(replay: Replay, index: np.ndarray, values: np.ndarray) -> list[dict[str, Any]]:
    base = replay.base_currency
    names = replay.class_names
    out: list[dict[str, Any]] = []
    for (bar, asset), (signed, price, fee, slip) in zip(index.tolist(), values.tolist(), strict=True):
        symbol = f"{replay.assets[asset]}/{base}"
        out.append(
            {
                "timestamp": _iso(replay, bar),
                "class": names[replay.class_of[asset]],
                "symbol": symbol,
                "instrument": "spot",
                "side": "buy" if signed > 0 else "sell",
                "amount": abs(signed),
                "price": price,
                "notional": abs(signed) * price,
                "fee": fee,
                "slippage": slip,
            }
        )
    return out


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
    n_bars = replay.times.shape[0]
    equity = np.zeros((grid.shape[0], n_bars if record_equity else 0))
    stats = kernel.simulate_batch(
        replay.close,
        replay.times,
        replay.class_of,
        replay.split,
        replay.targets,
        grid,
        replay.cash_index,
        float(capital),
        replay.policy.costs.taker_fee,
        constant_slippage(models),
        replay.policy.rebalance.min_notional,
        trigger_kind,
        period_ns,
        scope_breached,
        band_edge,
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
        time_outside_bands=stats[:, kernel.STAT_OUTSIDE_BARS] / n_bars if track else np.full(len(grid), np.nan),
        equity=equity if record_equity else None,
    )
