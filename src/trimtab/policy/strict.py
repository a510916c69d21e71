"""What every model of the policy file shares: strictness, and the checks of a duration and an asset code."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from trimtab.policy.durations import parse_duration


class StrictModel(BaseModel):
    """Frozen, rejects unknown keys, NaN and infinities."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)


def check_duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


def check_asset(value: str) -> str:
    text = value.strip()
    if not text or "/" in text or ":" in text:
        raise ValueError(f"{value!r} is not an asset code such as 'BTC'")
    return text.upper()
