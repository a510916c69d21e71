"""Triggers: whether this moment calls for a rebalance.

Every trigger answers one question, :meth:`Trigger.check`, from a valuation, the bands and the times
the caller remembers (:class:`TriggerContext`). The core reads no clock: ``now`` comes from the caller.

* ``threshold``: fires as soon as any class, the cash class included, is outside its band.
* ``calendar``: fires when ``now - last_rebalance >= every``, or when the portfolio was never rebalanced.
* ``hybrid``: the bands are looked at only at check points, one every ``every`` since ``last_check``
  (the first call is a check point); it fires only on a breach found at a check point.
* ``exposure``: fires when the ``long`` class's net exposure and the hedge the ``short`` class carries
  (minus its net exposure) differ by more than ``gap`` of the long leg's notional, either way.
* ``any`` / ``all``: fire when any / all of the triggers listed in ``of`` fire.

``TriggerDecision.checked`` tells the caller whether this moment was a check point, so it can move
``last_check`` forward (hybrid) and ``last_rebalance`` when it rebalanced.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from trimtab.policy.bands import Band
from trimtab.policy.config import TriggerConfig
from trimtab.valuation.model import Valuation


@dataclass(frozen=True, slots=True)
class TriggerContext:
    """The moment of the check and the times the caller remembers."""

    now: datetime
    last_rebalance: datetime | None = None
    last_check: datetime | None = None


@dataclass(frozen=True, slots=True)
class TriggerDecision:
    """A trigger's answer.

    ``breached`` lists the classes outside their bands (the cash class included) whenever the bands were
    looked at; ``checked`` says whether this moment was a check point (always true for ``threshold``).
    """

    fired: bool
    reason: str
    breached: tuple[str, ...]
    checked: bool = True


class Trigger(Protocol):
    """Decides whether to rebalance now."""

    def check(self, valuation: Valuation, bands: Mapping[str, Band], context: TriggerContext) -> TriggerDecision:
        """Decide from the valuation, the bands and the remembered times."""
        ...


def paces_checks(trigger: Trigger) -> bool:
    """Whether ``trigger`` looks at the bands only at check points paced by ``last_check`` (a hybrid)."""
    return bool(getattr(trigger, "paces_checks", False))


def _percent(value: float) -> str:
    return f"{value * 100:.2f} %"


def breached_classes(valuation: Valuation, bands: Mapping[str, Band]) -> tuple[str, ...]:
    """Names of the classes whose weight is strictly outside their band, in the bands' order.

    Raises
    ------
    KeyError
        If a band names a class the valuation does not have.
    """
    weights = valuation.weights
    return tuple(name for name, band in bands.items() if band.breached(weights[name]))


def describe_breaches(valuation: Valuation, bands: Mapping[str, Band], breached: Sequence[str]) -> str:
    """``"BTC at 58.00 % is outside 45.00–55.00 %"``, one clause per breached class."""
    weights = valuation.weights
    return "; ".join(
        f"{name} at {_percent(weights[name])} is outside {bands[name].lower * 100:.2f}–{_percent(bands[name].upper)}"
        for name in breached
    )


def _describe_period(period: timedelta) -> str:
    seconds = period.total_seconds()
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"


@dataclass(frozen=True, slots=True)
class ThresholdTrigger:
    """Fires on any breach, the cash class included."""

    @property
    def paces_checks(self) -> bool:
        return False

    def check(self, valuation: Valuation, bands: Mapping[str, Band], context: TriggerContext) -> TriggerDecision:
        breached = breached_classes(valuation, bands)
        if breached:
            return TriggerDecision(True, describe_breaches(valuation, bands, breached), breached)
        return TriggerDecision(False, "every class is inside its band", ())


@dataclass(frozen=True, slots=True)
class CalendarTrigger:
    """Fires every ``period`` since the last rebalance, or at once when never rebalanced."""

    period: timedelta

    @property
    def paces_checks(self) -> bool:
        return False

    def check(self, valuation: Valuation, bands: Mapping[str, Band], context: TriggerContext) -> TriggerDecision:
        breached = breached_classes(valuation, bands)
        every = _describe_period(self.period)
        if context.last_rebalance is None:
            return TriggerDecision(True, f"calendar rebalance (every {every}): never rebalanced before", breached)
        due = context.last_rebalance + self.period
        if context.now >= due:
            return TriggerDecision(
                True, f"calendar rebalance (every {every}): last one at {context.last_rebalance.isoformat()}", breached
            )
        return TriggerDecision(False, f"next calendar rebalance due at {due.isoformat()}", breached, checked=False)


@dataclass(frozen=True, slots=True)
class HybridTrigger:
    """Looks at the bands every ``period`` since the last check; fires on a breach found at a check point."""

    period: timedelta

    @property
    def paces_checks(self) -> bool:
        return True

    def check(self, valuation: Valuation, bands: Mapping[str, Band], context: TriggerContext) -> TriggerDecision:
        if context.last_check is not None and context.now - context.last_check < self.period:
            due = context.last_check + self.period
            return TriggerDecision(False, f"next band check due at {due.isoformat()}", (), checked=False)
        breached = breached_classes(valuation, bands)
        every = _describe_period(self.period)
        if breached:
            reason = f"band check (every {every}): {describe_breaches(valuation, bands, breached)}"
            return TriggerDecision(True, reason, breached)
        return TriggerDecision(False, f"band check (every {every}): every class is inside its band", ())


@dataclass(frozen=True, slots=True)
class ExposureTrigger:
    """Fires when ``long``'s exposure and ``short``'s hedge differ by more than ``gap`` of the long notional.

    With ``L`` the long class's net exposure and ``H = -(short class's net exposure)`` the hedge it carries,
    the gap is ``|L - H| / |L|``; it fires when that exceeds ``gap`` (with no long exposure, whenever a hedge
    is left). Either side counts: an under-hedged and an over-hedged book both fire.
    """

    long: str
    short: str
    gap: float

    @property
    def paces_checks(self) -> bool:
        return False

    def check(self, valuation: Valuation, bands: Mapping[str, Band], context: TriggerContext) -> TriggerDecision:
        exposure = valuation.class_exposure(self.long).net_exposure
        hedge = -valuation.class_exposure(self.short).net_exposure
        mismatch = exposure - hedge
        limit = self.gap * abs(exposure)
        share = abs(mismatch) / abs(exposure) if exposure else math.inf
        where = "exceeds" if mismatch > 0 else "falls short of"
        breached = breached_classes(valuation, bands)
        facts = (
            f"{self.long} exposure {exposure:,.2f} {where} the {self.short} hedge {hedge:,.2f} by {abs(mismatch):,.2f}"
        )
        if abs(mismatch) > limit:
            share_text = _percent(share) if math.isfinite(share) else "all"
            reason = f"{facts} ({share_text} of the long notional; limit {_percent(self.gap)})"
            moved = tuple(dict.fromkeys((*breached, self.long, self.short)))
            return TriggerDecision(True, reason, moved)
        return TriggerDecision(False, f"{facts}: within {_percent(self.gap)} of the long notional", breached)


@dataclass(frozen=True, slots=True)
class CompositeTrigger:
    """``any``: fires when one of ``triggers`` fires; ``all``: when every one of them does.

    Every child is asked at every call, so hybrid children see their check points. The decision is a check
    point when a child that paces checks (a hybrid) had one; with no such child, when any child had one.
    One ``last_check`` is shared by all children.
    """

    mode: str
    triggers: tuple[Trigger, ...]

    @property
    def paces_checks(self) -> bool:
        return any(paces_checks(t) for t in self.triggers)

    def check(self, valuation: Valuation, bands: Mapping[str, Band], context: TriggerContext) -> TriggerDecision:
        decisions = [t.check(valuation, bands, context) for t in self.triggers]
        fired_flags = [d.fired for d in decisions]
        fired = any(fired_flags) if self.mode == "any" else all(fired_flags)
        breached: list[str] = []
        for decision in decisions:
            breached.extend(name for name in decision.breached if name not in breached)
        pacing = [d.checked for t, d in zip(self.triggers, decisions, strict=True) if paces_checks(t)]
        checked = any(pacing) if pacing else any(d.checked for d in decisions)
        if fired:
            reason = "; ".join(d.reason for d in decisions if d.fired)
        else:
            waiting = [d.reason for d in decisions if not d.fired]
            reason = f"not all triggers fired: {'; '.join(waiting)}" if self.mode == "all" else "; ".join(waiting)
        return TriggerDecision(fired, reason, tuple(breached), checked)


def build_trigger(config: TriggerConfig) -> Trigger:
    """The trigger that ``[trigger]`` describes (threshold, calendar, hybrid, or any / all of nested ones).

    Raises
    ------
    ValueError
        If the configuration lacks a field its kind needs (the config model already rejects that).
    """
    if config.kind == "threshold":
        return ThresholdTrigger()
    if config.kind == "exposure":
        if config.long is None or config.short is None or config.gap is None:
            raise ValueError("an exposure trigger needs 'long', 'short' and 'gap'")
        return ExposureTrigger(config.long, config.short, config.gap)
    if config.kind in ("calendar", "hybrid"):
        period = config.period
        if period is None:
            raise ValueError(f"a {config.kind} trigger needs 'every'")
        return CalendarTrigger(period) if config.kind == "calendar" else HybridTrigger(period)
    if not config.of:
        raise ValueError(f"an '{config.kind}' trigger needs a non-empty 'of' list")
    return CompositeTrigger(config.kind, tuple(build_trigger(child) for child in config.of))
