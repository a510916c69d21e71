"""Invariants of a steered cash flow, for any book, targets and flow.

* The shares placed sum to the flow: the goals' change in money equals the flow, so the cash class ends
  holding exactly its own share.
* A deposit never sells and never lifts a class above its target; a withdrawal never buys and never takes a
  class below its target.
* Only the classes on the flow's side of their target move.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.planner.flows import steer_goals
from trimtab.policy.bands import Band

NAMES = ("A", "B", "C", "CASH")


@st.composite
def books(draw: st.DrawFn) -> tuple[dict[str, float], dict[str, float], float]:
    raw_targets = [draw(st.floats(0.0, 1.0)) for _ in NAMES]
    raw_values = [draw(st.floats(0.0, 1.0)) for _ in NAMES]
    if sum(raw_targets) <= 1e-6 or sum(raw_values) <= 1e-6:
        raw_targets, raw_values = [1.0] * 4, [1.0] * 4
    targets = {n: t / sum(raw_targets) for n, t in zip(NAMES, raw_targets, strict=True)}
    equity_before = 100_000.0
    values = {n: v / sum(raw_values) * equity_before for n, v in zip(NAMES, raw_values, strict=True)}
    fraction = draw(st.floats(-0.9, 2.0).filter(lambda f: abs(f) > 1e-6))
    return targets, values, fraction * equity_before


@settings(max_examples=150, deadline=None)
@given(books())
def test_a_steered_flow_places_all_of_itself_on_the_right_side_of_the_targets(
    book: tuple[dict[str, float], dict[str, float], float],
) -> None:
    targets, values, flow = book
    if -flow >= sum(values.values()):
        return
    after = dict(values, CASH=values["CASH"] + flow)  # the flow reached the cash class's balance
    equity = sum(after.values())
    weights = {n: v / equity for n, v in after.items()}
    bands = {n: Band(t, 0.05) for n, t in targets.items()}
    goals = steer_goals(weights, bands, "CASH", flow, equity)
    moved = {n: (goals.goals[n] - weights[n]) * equity for n in NAMES if n != "CASH"}
    held_cash = goals.goals["CASH"] * equity - values["CASH"]  # what the cash class kept of the flow
    assert math.isclose(sum(moved.values()) + held_cash, flow, rel_tol=1e-9, abs_tol=1e-6)
    tolerance = 1e-9
    for name, change in moved.items():
        if flow > 0:
            assert change >= -1e-6
            assert goals.goals[name] <= max(targets[name], weights[name]) + tolerance
        else:
            assert change <= 1e-6
            assert goals.goals[name] >= min(targets[name], weights[name]) - tolerance
        if abs(change) > 1e-6:
            assert name in goals.moving
            assert (targets[name] - weights[name]) * flow > 0  # it was on the flow's side of its target
