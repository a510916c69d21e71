"""Reading the user's files (TOML or JSON) into validated core values; every error names file and field."""

from trimtab.loaders.inputs import PlanInputs, load_plan_inputs
from trimtab.loaders.market import load_market
from trimtab.loaders.policy import load_policy
from trimtab.loaders.portfolio import load_portfolio

__all__ = ["PlanInputs", "load_market", "load_plan_inputs", "load_policy", "load_portfolio"]
