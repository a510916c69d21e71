"""Reading the user's files (TOML or JSON) into validated core values; every error names file and field."""

from typing import TYPE_CHECKING

from trimtab.lazy import lazy_exports

if TYPE_CHECKING:
    from trimtab.loaders.inputs import PlanInputs, load_plan_inputs
    from trimtab.loaders.market import load_market
    from trimtab.loaders.policy import load_policy
    from trimtab.loaders.portfolio import load_portfolio

__all__ = [
    "PlanInputs",
    "load_market",
    "load_plan_inputs",
    "load_policy",
    "load_portfolio",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "trimtab.loaders.inputs": ("PlanInputs", "load_plan_inputs"),
        "trimtab.loaders.market": ("load_market",),
        "trimtab.loaders.policy": ("load_policy",),
        "trimtab.loaders.portfolio": ("load_portfolio",),
    },
)
