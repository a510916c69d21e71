"""Core-satellite: satellites are rebalanced spot; the core sleeve's excess is hedged with an index perp.

The core classes are held, not traded: when the core sleeve as a whole drifts away from its sleeve target
(the sum of the core classes' policy targets), the excess is offset with one index perpetual
(``index_hedge``). The valuation counts that perpetual toward one core class, the *carrier*: the core class
that lists the perpetual's base asset, else the core class whose ``hedge`` it is (the policy's validation
makes sure there is one). So that a planner which simply follows the target set hedges exactly the sleeve's
excess, and nothing flips back at the next check, the targets are:

* every non-carrier core class: its current weight (it is not traded);
* the carrier: its current weight minus the sleeve's excess
  (``excess = sum(core weights) - sum(core policy targets)``), so the sleeve's targets add up to the sleeve
  target; the carrier is breached exactly when the sleeve's excess exceeds the carrier's band;
* satellites and every other class: their policy targets; the cash class: the remainder.

Every core class trades ``perp`` with ``hedges[c] = index_hedge``; satellites trade ``spot``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import parse_symbol
from trimtab.policy.config import CoreSatelliteStrategy, Policy
from trimtab.policy.targets.base import NeedsNoHistory, TargetContext, TargetSet, with_cash_remainder
from trimtab.policy.targets.registry import register_target_model
from trimtab.valuation.model import Valuation


def hedge_carrier(classes: Sequence[AssetClass], core: Sequence[str], index_hedge: str) -> str | None:
    """The class the valuation counts ``index_hedge`` toward, if it is a core class.

    The valuation's rule: the class listing the perpetual's base asset, else the class whose ``hedge`` it is.

    Returns
    -------
    str or None
        The carrier's name, or None when the perpetual counts toward no core class.
    """
    base = parse_symbol(index_hedge).base
    owner = next((c.name for c in classes if base in c.assets), None)
    if owner is None:
        owner = next((c.name for c in classes if c.hedge == index_hedge), None)
    return owner if owner in core else None


@dataclass(frozen=True, slots=True)
class CoreSatelliteTargets(NeedsNoHistory):
    """Targets for a core sleeve hedged with an index perpetual and satellites traded spot."""

    classes: Sequence[AssetClass]
    strategy: CoreSatelliteStrategy

    def targets(self, valuation: Valuation, context: TargetContext) -> TargetSet:
        """The target set; see the module for the rule.

        Raises
        ------
        ValueError
            If ``index_hedge`` counts toward no core class.
        """
        core = self.strategy.core
        index_hedge = self.strategy.index_hedge
        carrier = hedge_carrier(self.classes, core, index_hedge)
        if carrier is None:
            raise ValueError(f"strategy.index_hedge: {index_hedge} counts toward no core class")
        weights = valuation.weights
        policy_targets = {c.name: c.target for c in self.classes}
        sleeve_target = sum(policy_targets[name] for name in core)
        sleeve_weight = sum(weights[name] for name in core)
        excess = sleeve_weight - sleeve_target
        chosen = {name: weights[name] for name in core}
        chosen[carrier] = weights[carrier] - excess
        instruments = dict.fromkeys(core, "perp")
        instruments.update(dict.fromkeys(self.strategy.satellite, "spot"))
        notes = (
            f"core sleeve ({', '.join(core)}) at {sleeve_weight * 100:.2f} % against its target "
            f"{sleeve_target * 100:.2f} %: excess {excess * 100:+.2f} % is offset with {index_hedge} "
            f"(counted in {carrier})",
        )
        return TargetSet(
            targets=with_cash_remainder(self.classes, chosen),
            instruments=instruments,
            hedges=dict.fromkeys(core, index_hedge),
            notes=notes,
        )


@register_target_model("core-satellite")
def build(policy: Policy) -> CoreSatelliteTargets:
    """The core-satellite model of ``policy``."""
    strategy = policy.strategy
    if not isinstance(strategy, CoreSatelliteStrategy):
        raise TypeError(f"not a core-satellite strategy: {strategy.kind}")
    return CoreSatelliteTargets(policy.asset_classes(), strategy)
