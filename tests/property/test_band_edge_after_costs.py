"""Band-edge goals put every class of the scope, the cash class included, inside its band after the trades' costs.

Trades to goals ``g`` (fractions of the equity ``E`` before trading) cost ``r x |g - w| x E`` each, paid from the
cash, so afterwards the equity is ``(1 - c) E`` with ``c = sum r |g - w|``: a class weighs ``g / (1 - c)`` and the
cash class ``(g_cash - c) / (1 - c)``. Both must lie in their bands (edges included) unless the plan says the cash
class cannot be brought inside.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.planner.goals import Scope, compute_goals
from trimtab.policy.bands import Band

TOLERANCE = 1e-12


@st.composite
def books(draw: st.DrawFn) -> tuple[dict[str, float], dict[str, Band], dict[str, float]]:
    n_classes = draw(st.integers(1, 5))
    raw = [draw(st.floats(0.05, 1.0)) for _ in range(n_classes + 1)]
    targets = [value / sum(raw) for value in raw]
    bands = {f"C{i}": Band(targets[i], draw(st.floats(0.002, 0.1)) * targets[i]) for i in range(n_classes)}
    bands["CASH"] = Band(targets[-1], draw(st.floats(0.01, 0.1)))
    drift = [max(targets[i] + draw(st.floats(-0.15, 0.15)), 0.0) for i in range(n_classes)]
    weights = {f"C{i}": drift[i] for i in range(n_classes)}
    weights["CASH"] = 1.0 - sum(drift)
    rates = {name: draw(st.sampled_from([0.0, 0.0015, 0.004, 0.02])) for name in bands}
    return weights, bands, rates


@settings(max_examples=400, deadline=None)
@given(book=books(), scope=st.sampled_from(["all", "breached"]))
def test_band_edge_goals_are_inside_after_costs(
    book: tuple[dict[str, float], dict[str, Band], dict[str, float]], scope: Scope
) -> None:
    weights, bands, rates = book
    goals = compute_goals(weights, bands, "CASH", scope, "band-edge", cost_rates=rates)
    names = [name for name in weights if name != "CASH"]
    cost = sum(rates[name] * abs(goals.goals[name] - weights[name]) for name in names)
    for name in names:
        moved = abs(goals.goals[name] - weights[name]) > 1e-12
        in_scope = scope == "all" or bands[name].breached(weights[name])
        if in_scope or moved:
            after = goals.goals[name] / (1.0 - cost)
            assert bands[name].lower - TOLERANCE <= after <= bands[name].upper + TOLERANCE, (name, after)
    cash_after = (goals.goals["CASH"] - cost) / (1.0 - cost)
    if not any("cannot be brought inside" in note for note in goals.notes):
        assert bands["CASH"].lower - TOLERANCE <= cash_after <= bands["CASH"].upper + TOLERANCE, cash_after
