"""The sweep's batched kernel gives each grid point the metrics `run_backtest` gives it alone.

Points vary band widths (absolute, relative, per class), ``to``, ``scope``, trigger kinds and periods and
costs; a point that needs the event engine (a perpetual hedge, an ``any`` trigger) falls back to a run
of its own. Every point's metrics must equal the single run's to 1e-9 relative.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.backtest.sweep import SweepJob, policy_for, run_sweep
from trimtab.backtest.sweep_batch import plan_batches
from trimtab.feed import MarketHistory

from .conftest import DATA, four_class_policy

GRID: list[dict[str, Any]] = [
    {"band": 0.02},
    {"band": 0.05},
    {"band": 0.12},
    {"band": 0.05, "to": "band-edge"},
    {"band": 0.04, "scope": "breached", "to": "band-edge"},
    {"band": 0.05, "scope": "breached"},
    {"band": 0.03, "every": "7d"},
    {"kind": "calendar", "every": "30d"},
    {"band": 0.05, "costs.taker_fee": 0.0004, "costs.slippage_bps": 8.0},
    {"band": 0.05, "rebalance.min_notional": 2_000.0},
    {},  # the policy's own bands: per class, ALTS relative
    {"band": 0.03, "tax.method": "hifo", "tax.short_term_rate": 0.3, "tax.long_term_rate": 0.15},
    {"trigger.adaptive.lookback": "30d", "trigger.adaptive.reference_vol": 0.6},  # moving bands: a run of its own
    {"instrument": "auto"},  # may hedge with perpetuals: the event engine
]


def _job(tmp_path: Path) -> SweepJob:
    document = four_class_policy().model_dump(mode="json", by_alias=True, exclude_none=True)
    document["trigger"] = {"kind": "threshold"}
    return SweepJob(document, "policy.toml", DATA, None, None, 100_000.0, "1d")


def test_batched_points_equal_single_runs(
    tmp_path: Path, majors_daily: MarketHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIMTAB_CACHE_DIR", str(tmp_path / "cache"))
    job = _job(tmp_path)
    policies = [policy_for(job, params) for params in GRID]
    batches, others = plan_batches(policies, majors_daily, None, None)
    assert sum(len(batch.indexes) for batch in batches) == len(GRID) - 2
    assert len(batches) == 1  # every batchable point shares assets, classes and targets
    assert others == [len(GRID) - 2, len(GRID) - 1]

    points = run_sweep(job, GRID, workers=1)

    assert len(points) == len(GRID)
    for params, point in zip(GRID, points, strict=True):
        alone = run_backtest(policy_for(job, params), majors_daily, capital=100_000.0).metrics
        assert point.params == params
        assert point.metrics["rebalances"] == alone["rebalances"], params
        taxed = "tax.method" in params
        if not taxed and not point.metrics.get("realised_gain"):  # a batched point without [tax]
            assert point.metrics["tax"] == alone["tax"] == 0.0
            alone = {k: v for k, v in alone.items() if k not in ("realised_gain", "realised_loss")}
        missing = sorted(set(alone) - set(point.metrics))
        assert not missing, f"add {missing} to trimtab.backtest.sweep_batch.stats_metrics (kernel running figures)"
        for key, value in alone.items():
            assert point.metrics[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (params, key)
        if taxed:
            assert point.metrics["tax"] > 0.0 and point.metrics["realised_gain"] > 0.0
    assert any(point.efficient for point in points)


def test_points_outside_a_batch_run_in_the_process_pool_with_the_same_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIMTAB_CACHE_DIR", str(tmp_path / "cache"))
    job = _job(tmp_path)
    grid: list[dict[str, Any]] = [
        {"band": 0.04},
        {"trigger.adaptive.lookback": "30d", "trigger.adaptive.reference_vol": 0.6},
        {"trigger.adaptive.lookback": "60d", "trigger.adaptive.reference_vol": 0.6},
    ]
    pooled = run_sweep(job, grid, workers=2)
    serial = run_sweep(job, grid, workers=1)
    assert [p.label for p in pooled] == [p.label for p in serial]
    for mine, theirs in zip(pooled, serial, strict=True):
        assert mine.metrics == theirs.metrics
