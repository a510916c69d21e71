"""A policy's ``[strategy]`` table: the settings of each target model, one union by ``kind``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field, field_validator

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.policy.class_config import ClassConfig
from trimtab.policy.strict import StrictModel, check_duration


class FixedStrategy(StrictModel):
    """The policy's own targets."""

    kind: Literal["fixed"] = "fixed"

    def references(self) -> list[tuple[str, str]]:
        """The (field path, class name) pairs the strategy names: each must be a non-cash class."""
        return []

    def check(self, classes: Mapping[str, ClassConfig]) -> None:
        """Raise ValueError if the strategy cannot work with these classes (by name)."""


class CoreSatelliteStrategy(StrictModel):
    """Core and satellite sleeves; the core's excess over its sleeve target is hedged with an index perp."""

    kind: Literal["core-satellite"]
    core: list[str] = Field(min_length=1)
    satellite: list[str] = Field(min_length=1)
    index_hedge: str

    @field_validator("index_hedge")
    @classmethod
    def _hedge(cls, value: str) -> str:
        if parse_symbol(value).kind is not InstrumentKind.PERP:
            raise ValueError(f"{value!r} must be a perpetual")
        return value

    def references(self) -> list[tuple[str, str]]:
        return [("strategy.core", n) for n in self.core] + [("strategy.satellite", n) for n in self.satellite]

    def check(self, classes: Mapping[str, ClassConfig]) -> None:
        if set(self.core) & set(self.satellite):
            raise ValueError("strategy: a class cannot be both core and satellite")
        # The valuation counts a derivative toward the class listing its base asset, else the class
        # whose hedge it is: that class must be a core class, or the hedge would move another class.
        base = parse_symbol(self.index_hedge).base
        owner = next((c.name for c in classes.values() if base in c.assets), None)
        if owner is None:
            owner = next((c.name for c in classes.values() if c.hedge == self.index_hedge), None)
        if owner not in self.core:
            where = f"counts toward {owner!r}" if owner else "counts toward no class"
            raise ValueError(
                f"strategy.index_hedge: {self.index_hedge} {where}; list its base asset in a core class "
                "or make it the 'hedge' of a core class"
            )


class BetaNeutralStrategy(StrictModel):
    """A long leg hedged by a short leg sized by beta (given, or estimated over ``lookback``)."""

    kind: Literal["beta-neutral"]
    long: str
    short: str
    beta: float | None = Field(default=None, gt=0)
    lookback: str = "90d"

    _lookback = field_validator("lookback")(check_duration)

    def references(self) -> list[tuple[str, str]]:
        return [("strategy.long", self.long), ("strategy.short", self.short)]

    def check(self, classes: Mapping[str, ClassConfig]) -> None:
        if self.long == self.short:
            raise ValueError("strategy: long and short must be different classes")
        if classes[self.short].hedge is None:
            raise ValueError(f"strategy.short: class {self.short!r} needs a 'hedge' perpetual to go short with")


class CppiStrategy(StrictModel):
    """Constant-proportion portfolio insurance: risky exposure = multiplier x (equity - floor)."""

    kind: Literal["cppi"]
    multiplier: float = Field(gt=0)
    floor: float = Field(gt=0, lt=1)
    ratchet: bool = False
    risky: list[str] | None = None
    peak_equity: float | None = Field(default=None, gt=0)

    def references(self) -> list[tuple[str, str]]:
        return [("strategy.risky", n) for n in self.risky or []]

    def check(self, classes: Mapping[str, ClassConfig]) -> None:
        if self.risky is not None and not self.risky:
            raise ValueError("strategy.risky: must not be empty (leave it out to mean every non-cash class)")


class DeltaTargetStrategy(StrictModel):
    """A net delta goal per class, as a fraction of equity (0 = delta-neutral)."""

    kind: Literal["delta-target"]
    deltas: dict[str, float] = Field(min_length=1)

    def references(self) -> list[tuple[str, str]]:
        return [(f"strategy.deltas.{n}", n) for n in self.deltas]

    def check(self, classes: Mapping[str, ClassConfig]) -> None:
        for name in self.deltas:
            if classes[name].hedge is None:
                raise ValueError(f"strategy.deltas.{name}: class {name!r} needs a 'hedge' perpetual")


class RiskParityStrategy(StrictModel):
    """Equal risk contributions among ``classes`` (default every non-cash class), from ``lookback`` of prices."""

    kind: Literal["risk-parity"]
    classes: list[str] | None = None
    lookback: str = "90d"

    _lookback = field_validator("lookback")(check_duration)

    def references(self) -> list[tuple[str, str]]:
        return [("strategy.classes", n) for n in self.classes or []]

    def check(self, classes: Mapping[str, ClassConfig]) -> None:
        if self.classes is not None and len(set(self.classes)) < 2:
            raise ValueError(
                "strategy.classes: list at least two different classes (or leave it out: every non-cash class)"
            )
        members = self.classes or [c.name for c in classes.values() if not c.cash]
        if sum(classes[name].target for name in members) <= 0:
            raise ValueError("strategy.classes: their policy targets sum to zero: there is no budget to share")


StrategyConfig = Annotated[
    FixedStrategy
    | CoreSatelliteStrategy
    | BetaNeutralStrategy
    | CppiStrategy
    | DeltaTargetStrategy
    | RiskParityStrategy,
    Field(discriminator="kind"),
]
