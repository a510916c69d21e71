"""Delta-target: a net delta goal per class, reached with the class's perpetual.

The listed classes' targets are their ``deltas`` (fractions of equity; 0 = delta-neutral, negative = net
short) and they trade ``perp``; every other class keeps its policy target; the cash class takes the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trimtab.domain.classes import AssetClass
from trimtab.policy.config import DeltaTargetStrategy, Policy
from trimtab.policy.targets.base import NeedsNoHistory, TargetContext, TargetSet, with_cash_remainder
from trimtab.policy.targets.registry import register_target_model
from trimtab.valuation.model import Valuation


@dataclass(frozen=True, slots=True)
class DeltaTargets(NeedsNoHistory):
    """The strategy's net delta goals for its classes, traded with their hedge perpetuals."""

    classes: Sequence[AssetClass]
    strategy: DeltaTargetStrategy

    def targets(self, valuation: Valuation, context: TargetContext) -> TargetSet:
        deltas = dict(self.strategy.deltas)
        return TargetSet(
            targets=with_cash_remainder(self.classes, deltas),
            instruments=dict.fromkeys(deltas, "perp"),
            notes=tuple(f"{name} net delta goal {delta:+.2%} of equity" for name, delta in deltas.items()),
        )


@register_target_model("delta-target")
def build(policy: Policy) -> DeltaTargets:
    """The delta-target model of ``policy``."""
    strategy = policy.strategy
    if not isinstance(strategy, DeltaTargetStrategy):
        raise TypeError(f"not a delta-target strategy: {strategy.kind}")
    return DeltaTargets(policy.asset_classes(), strategy)
