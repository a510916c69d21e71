"""The Numba kernel and the planner make the same decisions on thousands of random books.

Each example draws a spot policy (2 to 5 classes of 1 to 3 assets, random targets, absolute or relative
bands, ``scope``, ``to``, ``min_notional``, fee and slippage) and a random price path of a few bars. The
initial purchase and every later bar's price moves give a new book at each bar; the event engine asks
:func:`trimtab.planner.make_plan` for each bar's plan and the kernel decides on arrays. The two runs must
trade the same bars, the same assets, the same sides and the same amounts (to 1e-9 relative) and end
with the same equity. A further check holds the kernel's goal function to the planner's on random
weights directly,
with a cost rate that band-edge goals must land inside after.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from trimtab.backtest.engine import run_backtest
from trimtab.backtest.kernel_goals import goals_for_rebalance
from trimtab.feed import MarketHistory
from trimtab.planner.goals import compute_goals
from trimtab.policy.bands import Band
from trimtab.policy.config import Policy

BARS = 12
HOUR_NS = 3600 * 1_000_000_000
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def spot_policies(draw: st.DrawFn) -> dict[str, Any]:
    n_classes = draw(st.integers(2, 5))
    raw = [draw(st.floats(0.05, 1.0)) for _ in range(n_classes + 1)]
    total = sum(raw)
    classes: list[dict[str, Any]] = []
    for index in range(n_classes):
        assets = [f"A{index}X{k}" for k in range(draw(st.integers(1, 3)))]
        table: dict[str, Any] = {"name": f"C{index}", "assets": assets, "target": round(raw[index] / total, 6)}
        if draw(st.booleans()):
            table["band"] = draw(st.floats(0.005, 0.08))
        else:
            table["band_relative"] = draw(st.floats(0.05, 0.5))
        if len(assets) > 1:
            table["weights"] = {asset: draw(st.integers(1, 4)) for asset in assets}
        classes.append(table)
    cash_target = round(1.0 - sum(c["target"] for c in classes), 6)
    classes.append(
        {"name": "CASH", "assets": ["USDT"], "target": cash_target, "band": draw(st.floats(0.01, 0.1)), "cash": True}
    )
    return {
        "base_currency": "USDT",
        "class": classes,
        "rebalance": {
            "scope": draw(st.sampled_from(["all", "breached"])),
            "to": draw(st.sampled_from(["target", "band-edge"])),
            "min_notional": draw(st.sampled_from([0.0, 10.0, 300.0])),
        },
        "costs": {"taker_fee": draw(st.sampled_from([0.0, 0.001])), "slippage_bps": draw(st.sampled_from([0.0, 5.0]))},
    }


def _history(policy: Policy, seed: int, volatility: float) -> MarketHistory:
    assets = [a for c in policy.classes for a in c.assets if a != "USDT"]
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, volatility, (BARS, len(assets)))
    steps[0] = 0.0
    close = np.ones((BARS, len(assets) + 1))
    close[:, :-1] = rng.uniform(0.5, 500.0, len(assets)) * np.exp(np.cumsum(steps, axis=0))
    return MarketHistory(
        timeframe="1h",
        assets=(*assets, "USDT"),
        timestamps=1_700_000_000 * 1_000_000_000 + np.arange(BARS, dtype=np.int64) * HOUR_NS,
        close=close,
    )


@SETTINGS
@given(document=spot_policies(), seed=st.integers(0, 2**31), volatility=st.sampled_from([0.01, 0.05, 0.15]))
def test_kernel_and_planner_trade_alike_on_random_books(document: dict[str, Any], seed: int, volatility: float) -> None:
    policy = Policy.model_validate(document)
    history = _history(policy, seed, volatility)
    engine = run_backtest(policy, history, capital=100_000.0, fast=False)
    kernel = run_backtest(policy, history, capital=100_000.0, fast=True)

    event("rebalanced after the start" if engine.metrics["rebalances"] else "held its bands")
    assert np.array_equal(engine.rebalance_times, kernel.rebalance_times)
    slow = sorted((t["timestamp"], t["symbol"], t["side"], t["amount"]) for t in engine.trades)
    fast = sorted((t["timestamp"], t["symbol"], t["side"], t["amount"]) for t in kernel.trades)
    assert [row[:3] for row in slow] == [row[:3] for row in fast]
    for mine, theirs in zip(fast, slow, strict=True):
        assert mine[3] == pytest.approx(theirs[3], rel=1e-9, abs=1e-12)
    assert kernel.metrics["final_equity"] == pytest.approx(engine.metrics["final_equity"], rel=1e-9)
    np.testing.assert_allclose(kernel.weights, engine.weights, rtol=1e-9, atol=1e-12)


@SETTINGS
@given(
    document=spot_policies(),
    weights=st.lists(st.floats(0.0, 0.6), min_size=6, max_size=6),
    scope_breached=st.booleans(),
    band_edge=st.booleans(),
    cost_rate=st.sampled_from([0.0, 0.0015, 0.02]),
)
def test_the_kernels_goals_are_the_planners(
    document: dict[str, Any], weights: list[float], scope_breached: bool, band_edge: bool, cost_rate: float
) -> None:
    policy = Policy.model_validate(document)
    classes = policy.asset_classes()
    n_classes = len(classes)
    cash = next(i for i, c in enumerate(classes) if c.cash)
    current = np.array(weights[:n_classes])
    current[cash] = 1.0 - (current.sum() - current[cash])
    targets = np.array([c.target for c in classes])
    targets[cash] = 1.0 - (targets.sum() - targets[cash])
    halves = np.array([c.half_width for c in classes])

    goals, moving = np.zeros(n_classes), np.zeros(n_classes, dtype=np.bool_)
    scratch = (np.zeros(n_classes, dtype=np.bool_), np.zeros(n_classes), np.zeros(n_classes))
    goals_for_rebalance(
        current, targets, halves, cash, scope_breached, band_edge, goals, moving, cost_rate, *scratch, scratch[0].copy()
    )
    planned = compute_goals(
        {c.name: float(w) for c, w in zip(classes, current, strict=True)},
        {c.name: Band(float(t), float(h)) for c, t, h in zip(classes, targets, halves, strict=True)},
        classes[cash].name,
        "breached" if scope_breached else "all",
        "band-edge" if band_edge else "target",
        cost_rates={c.name: cost_rate for c in classes},
    )
    for index, asset_class in enumerate(classes):
        if asset_class.cash:  # the remainder, summed in another order; no trade is sized on it
            assert goals[index] == pytest.approx(planned.goals[asset_class.name], abs=1e-12)
        else:
            assert goals[index] == planned.goals[asset_class.name], asset_class.name
    assert {c.name for c, m in zip(classes, moving, strict=True) if m} == set(planned.moving)
