"""Beta-neutral: a long class hedged by a short class sized by beta.

``target[short] = -beta x target[long]``, traded with the short class's perpetual (``instruments[short] =
"perp"``). Beta is the strategy's ``beta`` if given, else one the caller passes in ``context.betas``, else
the OLS beta of the long class's returns on the short class's over ``lookback``, estimated from the price
window (:func:`trimtab.policy.estimation.beta`), else 1.0 with a note saying why. Every other class keeps its
policy target; the cash class takes the remainder (so it grows by the short leg's size).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from trimtab.domain.classes import AssetClass
from trimtab.policy.config import BetaNeutralStrategy, Policy
from trimtab.policy.durations import parse_duration
from trimtab.policy.estimation import EstimateUnavailableError, PriceWindow, beta, estimate_beta
from trimtab.policy.targets.base import TargetContext, TargetSet, with_cash_remainder
from trimtab.policy.targets.registry import register_target_model
from trimtab.valuation.model import Valuation

__all__ = ["BetaNeutralTargets", "estimate_beta"]


@dataclass(frozen=True, slots=True)
class BetaNeutralTargets:
    """A long class at its policy target and a short class at ``-beta`` times it."""

    classes: Sequence[AssetClass]
    strategy: BetaNeutralStrategy
    base_currency: str = ""

    @property
    def history(self) -> timedelta | None:
        return None if self.strategy.beta is not None else parse_duration(self.strategy.lookback)

    def _estimate(self, window: PriceWindow | None) -> tuple[float | None, str | None]:
        if window is None:
            return None, "no price history"
        named = {c.name: c for c in self.classes}
        lookback = parse_duration(self.strategy.lookback)
        try:
            long, short = named[self.strategy.long], named[self.strategy.short]
            return beta(window, long, short, self.base_currency, lookback), None
        except EstimateUnavailableError as error:
            return None, str(error)

    def estimates(self, window: PriceWindow | None) -> dict[str, str | None]:
        if self.strategy.beta is not None:
            return {}
        return {"beta": self._estimate(window)[1]}

    def targets(self, valuation: Valuation, context: TargetContext) -> TargetSet:
        long_name, short_name = self.strategy.long, self.strategy.short
        notes: list[str] = []
        if self.strategy.beta is not None:
            beta_value, source = self.strategy.beta, "from the policy"
        elif long_name in context.betas:
            beta_value, source = float(context.betas[long_name]), "estimated from history"
        else:
            estimated, why = self._estimate(context.window)
            if estimated is not None:
                beta_value, source = estimated, "estimated from history"
            else:
                beta_value, source = 1.0, "assumed"
                notes.append(f"no beta for {long_name} was given or estimated ({why}): beta 1.0 assumed")
        long_target = next(c.target for c in self.classes if c.name == long_name)
        short_target = -beta_value * long_target
        notes.append(
            f"{short_name} target {short_target * 100:.2f} % = -beta {beta_value:.4f} ({source}) x "
            f"{long_name} target {long_target * 100:.2f} %"
        )
        return TargetSet(
            targets=with_cash_remainder(self.classes, {short_name: short_target}),
            instruments={short_name: "perp"},
            notes=tuple(notes),
        )


@register_target_model("beta-neutral")
def build(policy: Policy) -> BetaNeutralTargets:
    """The beta-neutral model of ``policy``."""
    strategy = policy.strategy
    if not isinstance(strategy, BetaNeutralStrategy):
        raise TypeError(f"not a beta-neutral strategy: {strategy.kind}")
    return BetaNeutralTargets(policy.asset_classes(), strategy, policy.base_currency)
