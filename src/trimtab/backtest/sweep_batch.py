"""The sweep's fast lane: grid points the kernel can serve run together, one parallel kernel call a batch.

A grid point is *batchable* when its policy takes the fast path (:func:`trimtab.backtest.fastpath.eligibility`)
with fixed bands. Batchable points that hold the same assets in the same classes with the same targets
(whatever their bands, relative or per class, trigger kind and period, ``scope``, ``to``, fees, slippage
and ``min_notional``) share one :func:`trimtab.backtest.kernel_batch.simulate_batch` call; every other
point runs through :func:`trimtab.backtest.engine.run_backtest` on its own.

Each run's metrics come from the kernel's running figures (:mod:`trimtab.backtest.kernel_curve`), so no
equity curve is kept. Under a policy with ``[tax]`` its tax figures (``tax``, ``realised_gain``,
``realised_loss``) come from its trade log (a second, untracked kernel run that skips quiet bars) through
the lot book of :mod:`trimtab.backtest.taxes`; without ``[tax]`` only ``tax = 0`` is reported (replaying
the lots costs more than the run). The figures: they equal the metrics of
``trimtab backtest`` on the same policy to about 1e-12 relative (the order of summation differs), and
the counts exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from trimtab.backtest import kernel
from trimtab.backtest.fastpath import (
    KernelRun,
    edge_cost_rate,
    eligibility,
    kernel_arguments,
    kernel_slippage,
    spot_fee_rate,
    trade_log,
)
from trimtab.backtest.kernel_batch import (
    RUN_BAND_EDGE,
    RUN_PERIOD_NS,
    RUN_SCOPE_BREACHED,
    RUN_SETTINGS,
    RUN_TRIGGER_KIND,
    simulate_batch,
)
from trimtab.backtest.kernel_lockstep import (
    COST_EDGE,
    COST_MIN_NOTIONAL,
    COST_SLIPPAGE,
    COST_TAKER_FEE,
    RUN_COSTS,
)
from trimtab.backtest.metrics import ReturnMoments, RunTotals, curve_metrics, periods_per_year
from trimtab.backtest.replay import Replay, prepare
from trimtab.backtest.taxes import tax_record
from trimtab.feed.history import MarketHistory
from trimtab.policy.config import Policy
from trimtab.venues.simulation.models import RealityModels

BATCH_RUNS = 256
"""Runs per kernel call at most (a unit of work on Ray)."""


@dataclass
class Batch:
    """Grid points sharing prices, assets, classes and targets: one kernel call."""

    replay: Replay
    indexes: list[int] = field(default_factory=list)
    replays: list[Replay] = field(default_factory=list)
    models: list[RealityModels] = field(default_factory=list)
    half_widths: list[np.ndarray] = field(default_factory=list)
    settings: list[list[int]] = field(default_factory=list)
    costs: list[list[float]] = field(default_factory=list)


def batch_key(replay: Replay) -> tuple[object, ...]:
    """What the runs of one kernel call must share."""
    return (
        replay.assets,
        replay.class_names,
        replay.class_of.tobytes(),
        replay.split.tobytes(),
        replay.targets.tobytes(),
        replay.cash_index,
    )


def plan_batches(
    policies: Sequence[Policy], history: MarketHistory, start: datetime | None, end: datetime | None
) -> tuple[list[Batch], list[int]]:
    """Group the batchable policies into batches; the indexes of the others, which need a run of their own."""
    batches: dict[tuple[object, ...], list[Batch]] = {}
    others: list[int] = []
    for index, policy in enumerate(policies):
        replay = prepare(policy, history, start, end)
        models = RealityModels.from_costs(policy.costs)
        if replay.volatility is not None or not eligibility(replay, models).allowed:
            others.append(index)
            continue
        chain = batches.setdefault(batch_key(replay), [])
        if not chain or len(chain[-1].indexes) >= BATCH_RUNS:
            chain.append(Batch(replay))
        _add(chain[-1], index, replay, models)
    return [batch for chain in batches.values() for batch in chain], others


def _add(batch: Batch, index: int, replay: Replay, models: RealityModels) -> None:
    kind, period_ns, scope_breached, band_edge = kernel_arguments(replay)
    settings = [0] * RUN_SETTINGS
    settings[RUN_TRIGGER_KIND] = kind
    settings[RUN_PERIOD_NS] = period_ns
    settings[RUN_SCOPE_BREACHED] = int(scope_breached)
    settings[RUN_BAND_EDGE] = int(band_edge)
    costs = [0.0] * RUN_COSTS
    costs[COST_TAKER_FEE] = spot_fee_rate(replay)
    costs[COST_SLIPPAGE] = kernel_slippage(replay, models)
    costs[COST_MIN_NOTIONAL] = replay.policy.rebalance.min_notional
    costs[COST_EDGE] = edge_cost_rate(replay)
    batch.indexes.append(index)
    batch.replays.append(replay)
    batch.models.append(models)
    batch.half_widths.append(replay.half_widths)
    batch.settings.append(settings)
    batch.costs.append(costs)


def run_batch(batch: Batch, capital: float) -> list[tuple[int, dict[str, float]]]:
    """Run one batch; ``(point index, metrics)`` for each of its points, in the batch's order."""
    replay = batch.replay
    stats = simulate_batch(
        replay.prices,
        replay.first_column,
        replay.times,
        replay.class_of,
        replay.split,
        replay.targets,
        replay.cash_index,
        float(capital),
        np.ascontiguousarray(np.vstack(batch.half_widths)),
        np.array(batch.settings, dtype=np.int64),
        np.array(batch.costs, dtype=np.float64),
        np.zeros((len(batch.indexes), 0)),
        True,
    )
    bars_per_year = periods_per_year(replay.times)
    out = []
    for k, index in enumerate(batch.indexes):
        metrics = stats_metrics(stats[k], replay, capital, bars_per_year)
        if batch.replays[k].policy.tax is None:
            metrics["tax"] = 0.0  # no [tax]: nothing is taxed, and the lots are not replayed
        else:
            metrics.update(_tax_metrics(batch.replays[k], batch.models[k], capital))
        out.append((index, metrics))
    return out


def _tax_metrics(replay: Replay, models: RealityModels, capital: float) -> dict[str, float]:
    """The tax figures of one point: its trade log (a quick kernel run, quiet bars skipped) through the lots."""
    _, trade_index, trade_values = KernelRun(replay, capital, models).trades()
    log = trade_log(replay, trade_index, trade_values)
    return tax_record(log, replay.policy.tax_rules()).metrics()


def stats_metrics(stats: np.ndarray, replay: Replay, capital: float, bars_per_year: float) -> dict[str, float]:
    """The metrics of :func:`trimtab.backtest.metrics.compute_metrics` from one tracked run's ``STAT_*`` figures."""
    n_bars = replay.times.shape[0]
    count = int(stats[kernel.STAT_RETURN_COUNT])
    moments = ReturnMoments()
    if count > 1:
        moments = ReturnMoments(
            count,
            float(stats[kernel.STAT_RETURN_MEAN]),
            math.sqrt(max(float(stats[kernel.STAT_RETURN_M2]), 0.0) / (count - 1)),
            math.sqrt(float(stats[kernel.STAT_DOWNSIDE_SQUARED]) / count),
        )
    totals = RunTotals(
        rebalances=int(stats[kernel.STAT_REBALANCES]),
        traded_notional=float(stats[kernel.STAT_TRADED_NOTIONAL]),
        fees=float(stats[kernel.STAT_FEES]),
        slippage=float(stats[kernel.STAT_SLIPPAGE]),
    )
    metrics = curve_metrics(
        float(stats[kernel.STAT_FINAL_EQUITY]),
        replay.times,
        capital,
        totals,
        moments,
        float(stats[kernel.STAT_MAX_DRAWDOWN]),
        float(stats[kernel.STAT_EQUITY_SUM]) / n_bars,
        math.sqrt(float(stats[kernel.STAT_TRACKING_SQUARED]) / n_bars),
        float(stats[kernel.STAT_OUTSIDE_BEYOND_COSTS]) / n_bars,
        bars_per_year,
    )
    cost = totals.fees + totals.slippage
    metrics.update(
        {
            "time_outside_bands_strict": float(stats[kernel.STAT_OUTSIDE_BARS]) / n_bars,
            "cost": cost,
            "cost_after_initial": cost - float(stats[kernel.STAT_INITIAL_COST]),
            "funding_gap_bars": 0,
            "within_class_tracking_error": math.sqrt(float(stats[kernel.STAT_WITHIN_SQUARED]) / n_bars),
        }
    )
    return metrics
