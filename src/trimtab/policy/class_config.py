"""A policy's ``[[class]]`` table: its assets, target, band, weights and hedge."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, PlainValidator, field_validator, model_validator

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.policy.strict import StrictModel, check_asset


def _band_value(value: object) -> float | str | None:
    """A class's ``band``: a number strictly between 0 and 1, or ``"auto"`` (one validator, so an error
    names ``class[i].band`` and not a member of a union)."""
    if value is None or value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, float | int):
        raise ValueError('must be a number between 0 and 1 (exclusive), or "auto"')
    if not math.isfinite(value):
        raise ValueError("must be a finite number (not NaN or infinity)")
    if not 0.0 < value < 1.0:
        raise ValueError('must be between 0 and 1 (exclusive), or "auto"')
    return float(value)


class ClassConfig(StrictModel):
    """One ``[[class]]`` table."""

    name: str = Field(min_length=1)
    assets: list[str] = Field(min_length=1)
    target: float
    band: Annotated[
        float | Literal["auto"] | None, PlainValidator(_band_value, json_schema_input_type=float | Literal["auto"])
    ] = None
    band_relative: float | None = None
    weights: dict[str, float] | None = None
    hedge: str | None = None
    cash: bool = False

    @field_validator("assets")
    @classmethod
    def _assets(cls, value: list[str]) -> list[str]:
        assets = [check_asset(a) for a in value]
        if len(set(assets)) != len(assets):
            raise ValueError("an asset is listed twice")
        return assets

    @field_validator("target")
    @classmethod
    def _target(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError("must be between 0 and 1")
        return value

    @field_validator("band_relative")
    @classmethod
    def _band(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 < value < 1.0:
            raise ValueError("must be between 0 and 1 (exclusive)")
        return value

    @property
    def band_auto(self) -> bool:
        """Whether the band's half-width comes from costs and volatility (``band = "auto"``)."""
        return self.band == "auto"

    @field_validator("hedge")
    @classmethod
    def _hedge(cls, value: str | None) -> str | None:
        if value is None:
            return None
        instrument = parse_symbol(value)
        if instrument.kind not in (InstrumentKind.PERP, InstrumentKind.FUTURE):
            raise ValueError(f"{value!r} must be a perpetual or a dated future")
        return value

    @model_validator(mode="after")
    def _band_and_weights(self) -> ClassConfig:
        if (self.band is None) == (self.band_relative is None):
            raise ValueError("give exactly one of 'band' and 'band_relative'")
        if self.weights is not None:
            keys = {check_asset(k) for k in self.weights}
            if keys != set(self.assets):
                raise ValueError("weights: must name exactly the class's assets")
            if any(not (w > 0 and math.isfinite(w)) for w in self.weights.values()):
                raise ValueError("weights: must be positive numbers")
        return self

    def split(self) -> dict[str, float]:
        """The class's split among its assets, normalised to sum to 1."""
        if self.weights is None:
            return {a: 1.0 / len(self.assets) for a in self.assets}
        total = sum(self.weights.values())
        return {check_asset(k): v / total for k, v in self.weights.items()}
