"""Delta-target: a net delta goal per class, reached with the class's perpetual.

The listed classes' targets are their ``deltas`` (fractions of equity; 0 = delta-neutral, negative = net
short) and they trade ``perp``; every other class keeps its policy target; the cash class takes the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trimtab.domain.classes import AssetClass
from trimtab.policy.config import DeltaTargetStrategy
from trimtab.policy.targets.base import TargetContext, TargetSet, with_cash_remainder
from trimtab.valuation.model import Valuation


@dataclass(frozen=True, slots=True)
class DeltaTargets:
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
