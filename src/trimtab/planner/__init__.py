"""The planner (pure): from a valuation and a policy to a rebalance plan.

Goals and scope (:mod:`~trimtab.planner.goals`), the cost model and the ``auto`` instrument choice
(:mod:`~trimtab.planner.costs`), sizing into spot and derivative orders (:mod:`~trimtab.planner.sizing`),
lot sizes and minimums (:mod:`~trimtab.planner.rounding`), the margin guard (:mod:`~trimtab.planner.guard`)
and the reference fill model (:mod:`~trimtab.planner.apply`); :func:`make_plan` ties them together.
"""

from typing import TYPE_CHECKING

from trimtab.lazy import lazy_exports

if TYPE_CHECKING:
    from trimtab.planner.apply import apply_plan, apply_trades
    from trimtab.planner.engine import PlanContext, PlanOutcome, make_plan, plan_outcome

__all__ = [
    "PlanContext",
    "PlanOutcome",
    "apply_plan",
    "apply_trades",
    "make_plan",
    "plan_outcome",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "trimtab.planner.apply": ("apply_plan", "apply_trades"),
        "trimtab.planner.engine": ("PlanContext", "PlanOutcome", "make_plan", "plan_outcome"),
    },
)
