"""The fixed target model: the policy's own targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trimtab.domain.classes import AssetClass
from trimtab.policy.config import Policy
from trimtab.policy.targets.base import NeedsNoHistory, TargetContext, TargetSet, with_cash_remainder
from trimtab.policy.targets.registry import register_target_model
from trimtab.valuation.model import Valuation


@dataclass(frozen=True, slots=True)
class FixedTargets(NeedsNoHistory):
    """Returns the policy's targets whatever the valuation (the cash class takes the remainder)."""

    classes: Sequence[AssetClass]

    def targets(self, valuation: Valuation, context: TargetContext) -> TargetSet:
        return TargetSet(targets=with_cash_remainder(self.classes, {}))


@register_target_model("fixed")
def build(policy: Policy) -> FixedTargets:
    """The fixed model of ``policy``."""
    return FixedTargets(policy.asset_classes())
