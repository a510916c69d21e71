"""A policy's ``[trigger]`` table: when to rebalance, and ``[trigger.adaptive]`` volatility-scaled bands."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from trimtab.policy.durations import parse_duration
from trimtab.policy.strict import StrictModel, check_duration


class AdaptiveConfig(StrictModel):
    """``[trigger.adaptive]``: bands that scale with volatility over ``reference_vol``."""

    lookback: str = "30d"
    reference_vol: float = Field(gt=0)
    min_band: float = Field(default=0.01, gt=0, lt=1)
    max_band: float = Field(default=0.15, gt=0, lt=1)

    _lookback = field_validator("lookback")(check_duration)

    @model_validator(mode="after")
    def _order(self) -> AdaptiveConfig:
        if self.min_band > self.max_band:
            raise ValueError("min_band must not exceed max_band")
        return self

    @property
    def lookback_period(self) -> timedelta:
        return parse_duration(self.lookback)


TriggerKind = Literal["threshold", "calendar", "hybrid", "exposure", "any", "all"]
EXPOSURE_KEYS = ("long", "short", "gap")
"""The keys of an ``exposure`` trigger (left out of the config hash when unset, so older hashes hold)."""


class TriggerConfig(StrictModel):
    """``[trigger]``: when to rebalance.

    ``threshold`` fires on a breach; ``calendar`` every ``every``; ``hybrid`` checks every ``every`` and
    fires only on a breach; ``exposure`` fires when the ``long`` class's net exposure and the ``short``
    class's hedge differ by more than ``gap`` of the long leg's notional; ``any`` / ``all`` combine the
    triggers listed in ``of``.
    """

    kind: TriggerKind = "threshold"
    every: str | None = None
    adaptive: AdaptiveConfig | None = None
    of: list[TriggerConfig] | None = None
    long: str | None = None
    short: str | None = None
    gap: float | None = Field(default=None, gt=0.0, le=1.0)

    _every = field_validator("every")(check_duration)

    @model_validator(mode="after")
    def _consistent(self) -> TriggerConfig:
        if self.kind in ("calendar", "hybrid") and self.every is None:
            raise ValueError(f"a {self.kind} trigger needs 'every' (e.g. '7d')")
        if self.kind == "threshold" and self.every is not None:
            raise ValueError("a threshold trigger takes no 'every' (use kind = 'hybrid')")
        if self.kind in ("any", "all"):
            if not self.of:
                raise ValueError(f"an '{self.kind}' trigger needs a non-empty 'of' list")
        elif self.of is not None:
            raise ValueError("'of' is only for kind = 'any' or 'all'")
        self._check_exposure_keys()
        return self

    def _check_exposure_keys(self) -> None:
        if self.kind != "exposure":
            for key in EXPOSURE_KEYS:
                if getattr(self, key) is not None:
                    raise ValueError(f"'{key}' is only for kind = 'exposure'")
            return
        if self.every is not None:
            raise ValueError("an exposure trigger takes no 'every' (combine it with a calendar in 'all')")
        for key in EXPOSURE_KEYS:
            if getattr(self, key) is None:
                raise ValueError(f'an exposure trigger needs \'{key}\' (e.g. long = "ALTS", short = "BTC", gap = 0.05)')
        if self.long == self.short:
            raise ValueError("an exposure trigger's long and short must be different classes")

    def references(self) -> list[tuple[str, str]]:
        """The (field path, class name) pairs this trigger and its children name."""
        if self.kind == "exposure" and self.long is not None and self.short is not None:
            return [("trigger.long", self.long), ("trigger.short", self.short)]
        return [pair for child in self.of or [] for pair in child.references()]

    @property
    def period(self) -> timedelta | None:
        return parse_duration(self.every) if self.every is not None else None
