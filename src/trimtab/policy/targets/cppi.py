"""CPPI (constant-proportion portfolio insurance): risky exposure = multiplier x cushion above a floor.

With equity ``E``, floor fraction ``f`` and multiplier ``m``:

* reference equity: with ``ratchet``, the highest of ``strategy.peak_equity``, ``context.peak_equity`` and
  ``E`` (the floor only rises); without it, ``strategy.peak_equity``, else ``context.peak_equity``, else
  ``E`` (the caller passes the starting equity to keep a fixed floor);
* ``floor = f x reference``; ``cushion = max(E - floor, 0)``;
* ``risky = min(m x cushion, max_leverage x E)``, as a weight ``risky / E``;
* the risky classes (``strategy.risky``, default every non-cash class) share that weight in proportion to
  their policy targets (equally when those are all zero); other classes keep their policy targets; the
  cash class takes the remainder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trimtab.domain.classes import AssetClass
from trimtab.policy.config import CppiStrategy, Policy
from trimtab.policy.targets.base import NeedsNoHistory, TargetContext, TargetSet, with_cash_remainder
from trimtab.policy.targets.registry import register_target_model
from trimtab.valuation.model import Valuation


@dataclass(frozen=True, slots=True)
class CppiTargets(NeedsNoHistory):
    """CPPI targets for the risky classes, the cash class holding the rest."""

    classes: Sequence[AssetClass]
    strategy: CppiStrategy
    max_leverage: float

    def reference_equity(self, equity: float, context: TargetContext) -> float:
        """The equity the floor is a fraction of (see the module)."""
        known = [p for p in (self.strategy.peak_equity, context.peak_equity) if p is not None]
        if self.strategy.ratchet:
            return max([*known, equity])
        return known[0] if known else equity

    def targets(self, valuation: Valuation, context: TargetContext) -> TargetSet:
        equity = valuation.equity
        risky = self.strategy.risky or [c.name for c in self.classes if not c.cash]
        reference = self.reference_equity(equity, context)
        floor = self.strategy.floor * reference
        cushion = max(equity - floor, 0.0)
        exposure = min(self.strategy.multiplier * cushion, self.max_leverage * max(equity, 0.0))
        risky_weight = exposure / equity if equity > 0 else 0.0
        policy = {c.name: c.target for c in self.classes}
        total = sum(policy[name] for name in risky)
        shares = {name: (policy[name] / total if total > 0 else 1.0 / len(risky)) for name in risky}
        chosen = {name: risky_weight * share for name, share in shares.items()}
        notes = [
            f"CPPI: floor {floor:,.2f} ({self.strategy.floor:.2%} of {reference:,.2f}), cushion {cushion:,.2f}, "
            f"risky exposure {exposure:,.2f} ({risky_weight:.2%} of equity)"
        ]
        targets = with_cash_remainder(self.classes, chosen)
        cash = next(c.name for c in self.classes if c.cash)
        if targets[cash] < 0:
            notes.append(f"CPPI: risky exposure exceeds equity; {cash} target {targets[cash]:.2%} needs leverage")
        return TargetSet(targets=targets, notes=tuple(notes))


@register_target_model("cppi")
def build(policy: Policy) -> CppiTargets:
    """The cppi model of ``policy``."""
    strategy = policy.strategy
    if not isinstance(strategy, CppiStrategy):
        raise TypeError(f"not a cppi strategy: {strategy.kind}")
    return CppiTargets(policy.asset_classes(), strategy, policy.rebalance.max_leverage)
