"""Cash flows: a deposit or withdrawal steers the next rebalance instead of a full one.

A flow ``F`` (base currency; positive = deposit, negative = withdrawal) has already reached the account
when the plan is made, so the valuation's equity ``E`` includes it. Let ``f = F / E`` and ``w`` the class
weights after the flow. Before the flow the cash class held ``w_cash - f`` of today's equity. Then:

* a **deposit** buys the underweight classes: each class's shortfall is ``s_c = max(0, target_c - w_c)``
  (the cash class's measured on its weight before the deposit), and the deposit is split pro rata to
  the shortfalls: class ``c`` receives ``f x s_c / sum(s)``. The cash class's share stays in cash; every other
  class is bought by its share. The shortfalls always cover the deposit (their sum minus the excesses is
  ``f``), so all of it is placed and no class is bought beyond its target;
* a **withdrawal** sells the overweight classes the same way, pro rata to their excess
  ``max(0, w_c - target_c)`` (the cash class's on its weight before the withdrawal).

No class is sold to buy another: only the flow is traded, so the book moves towards its targets as far as
the flow reaches, at the least turnover. The trigger is not consulted for that cycle; a class still outside
its band afterwards is rebalanced when the trigger next fires.
"""

from __future__ import annotations

from collections.abc import Mapping

from trimtab.planner.goals import Goals
from trimtab.policy.bands import Band

NEGLIGIBLE_FLOW = 1e-12
"""A flow below this fraction of equity is rounding noise: nothing is steered."""


def steer_goals(
    weights: Mapping[str, float], bands: Mapping[str, Band], cash: str, flow: float, equity: float
) -> Goals:
    """The goals of a rebalance steered by a cash flow.

    Parameters
    ----------
    weights:
        Class name -> weight after the flow reached the account, every class, in the policy's order.
    bands:
        Class name -> band; its ``target`` is the target the flow steers towards.
    cash:
        The cash class's name (the flow arrives in, or leaves from, the base currency it holds).
    flow:
        The flow in the base currency: positive for a deposit, negative for a withdrawal.
    equity:
        Equity after the flow.

    Returns
    -------
    Goals
        The goals (the cash class's is the remainder), the non-cash classes that trade, and a note.

    Raises
    ------
    ValueError
        If ``equity`` is not positive.
    """
    if equity <= 0.0:
        raise ValueError("a cash flow is steered only into a positive equity")
    fraction = flow / equity
    before = {name: weight - fraction if name == cash else weight for name, weight in weights.items()}
    sign = 1.0 if fraction > 0.0 else -1.0
    gaps = {name: max(0.0, sign * (bands[name].target - weight)) for name, weight in before.items()}
    total = sum(gaps.values())
    goals = dict(weights)
    if abs(fraction) <= NEGLIGIBLE_FLOW or total <= 0.0:
        return Goals(goals, (), ())
    shares = {name: fraction * gap / total for name, gap in gaps.items() if gap > 0.0}
    for name, share in shares.items():
        if name != cash:
            goals[name] = weights[name] + share
    goals[cash] = 1.0 - sum(weight for name, weight in goals.items() if name != cash)
    moving = tuple(name for name in weights if name != cash and name in shares)
    verb, direction = ("deposit", "underweight") if flow > 0 else ("withdrawal", "overweight")
    split = ", ".join(f"{name} {abs(share) * equity:.2f}" for name, share in shares.items())
    note = f"{verb} of {abs(flow):.2f} steered to the {direction} classes pro rata to their gap to target: {split}"
    return Goals(goals, moving, (note,))
