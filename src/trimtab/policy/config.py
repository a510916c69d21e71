"""The policy file's schema: typed, frozen, rejecting unknown keys.

The same schema reads TOML and JSON (the loaders pick by suffix). Every error names the field's path.
``Policy.asset_classes()`` turns the configuration into the core's :class:`~trimtab.domain.AssetClass`
values. ``Policy.model_json_schema()`` exports a JSON Schema. Each section's model lives in its own module
(``class_config``, ``trigger_config``, ``costs_config``, ``strategy_config``); this module assembles them and
re-exports their names.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from trimtab.domain.classes import AssetClass
from trimtab.domain.lots import TaxRules
from trimtab.policy.class_config import ClassConfig
from trimtab.policy.costs_config import CostsConfig, FeeRates, FeesByKind, TaxConfig
from trimtab.policy.durations import parse_duration
from trimtab.policy.strategy_config import (
    BetaNeutralStrategy,
    CoreSatelliteStrategy,
    CppiStrategy,
    DeltaTargetStrategy,
    FixedStrategy,
    RiskParityStrategy,
    StrategyConfig,
)
from trimtab.policy.strict import StrictModel, check_asset, check_duration
from trimtab.policy.trigger_config import EXPOSURE_KEYS, AdaptiveConfig, TriggerConfig, TriggerKind

__all__ = [
    "EXPOSURE_KEYS",
    "TARGET_SUM_TOLERANCE",
    "AdaptiveConfig",
    "BetaNeutralStrategy",
    "CashFlowConfig",
    "ClassConfig",
    "CoreSatelliteStrategy",
    "CostsConfig",
    "CppiStrategy",
    "DeltaTargetStrategy",
    "FeeRates",
    "FeesByKind",
    "FixedStrategy",
    "Policy",
    "RebalanceConfig",
    "RiskParityStrategy",
    "StrategyConfig",
    "StrictModel",
    "TaxConfig",
    "TriggerConfig",
    "TriggerKind",
]

TARGET_SUM_TOLERANCE = 1e-6


class RebalanceConfig(StrictModel):
    """``[rebalance]``: what a rebalance does and the limits it respects."""

    scope: Literal["all", "breached"] = "all"
    to: Literal["target", "band-edge"] = "target"
    instrument: Literal["spot", "perp", "auto"] = "spot"
    min_notional: float = Field(default=10.0, ge=0)
    max_leverage: float = Field(default=3.0, gt=0)
    margin_buffer: float = Field(default=0.5, ge=0)
    hedge_leverage: float = Field(default=1.0, gt=0)
    tracking_budget: float = Field(default=0.02, gt=0, lt=1)
    lookback: str = "30d"

    _lookback = field_validator("lookback")(check_duration)
    transfers: bool = True
    """Plan transfers between accounts of one exchange to fund openings; false cuts the openings instead."""


class CashFlowConfig(StrictModel):
    """One ``[[cash_flow]]`` of a backtest's schedule: a deposit (``amount`` > 0) or withdrawal (< 0) in the
    base currency, applied at the close of the first bar that closes at or after ``at``."""

    at: datetime
    amount: float

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: object) -> datetime:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"{value!r} is not an ISO 8601 time such as 2024-03-01T00:00:00Z") from None
        if not isinstance(value, datetime):
            raise ValueError("must be a time such as 2024-03-01T00:00:00Z")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: float) -> float:
        if value == 0.0:
            raise ValueError("must not be zero (positive: a deposit, negative: a withdrawal)")
        return value


class Policy(StrictModel):
    """A whole policy file."""

    base_currency: str
    classes: list[ClassConfig] = Field(alias="class", min_length=2)
    trigger: TriggerConfig = TriggerConfig()
    rebalance: RebalanceConfig = RebalanceConfig()
    costs: CostsConfig = CostsConfig()
    strategy: StrategyConfig = FixedStrategy()
    tax: TaxConfig | None = None
    # A lambda, not list: pydantic reads a default factory's signature, and a builtin's is parsed from text.
    cash_flows: list[CashFlowConfig] = Field(alias="cash_flow", default_factory=lambda: [])
    """Backtests only: deposits and withdrawals on a schedule (paper and live record them with ``trimtab flow``)."""

    _base = field_validator("base_currency")(check_asset)

    @model_validator(mode="after")
    def _whole(self) -> Policy:
        names = [c.name for c in self.classes]
        if len(set(names)) != len(names):
            raise ValueError("class: two classes share a name")
        seen: dict[str, str] = {}
        for c in self.classes:
            for asset in c.assets:
                if asset in seen:
                    raise ValueError(f"class: asset {asset} is in both {seen[asset]} and {c.name}")
                seen[asset] = c.name
        cash = [c.name for c in self.classes if c.cash]
        if len(cash) != 1:
            raise ValueError(f"class: exactly one class must have cash = true (found {len(cash)})")
        total = sum(c.target for c in self.classes)
        if abs(total - 1.0) > TARGET_SUM_TOLERANCE:
            raise ValueError(f"class: targets must sum to 1 (they sum to {total:.6g})")
        self._check_strategy(set(names), cash[0])
        for path, name in self.trigger.references():
            if name not in names:
                raise ValueError(f"{path}: {name!r} is not a class of this policy")
            if name == cash[0]:
                raise ValueError(f"{path}: {name!r} is the cash class")
        return self

    def _check_strategy(self, names: set[str], cash: str) -> None:
        for path, name in self.strategy.references():
            if name not in names:
                raise ValueError(f"{path}: {name!r} is not a class of this policy")
            if name == cash:
                raise ValueError(f"{path}: {name!r} is the cash class")
        self.strategy.check({c.name: c for c in self.classes})

    _asset_classes: tuple[AssetClass, ...] | None = PrivateAttr(default=None)

    def asset_classes(self) -> tuple[AssetClass, ...]:
        """The classes as core values, in file order (built once: the policy is frozen)."""
        if self._asset_classes is None:
            self._asset_classes = self._build_asset_classes()
        return self._asset_classes

    def _build_asset_classes(self) -> tuple[AssetClass, ...]:
        # An auto band's width is computed at each look (policy.bands); until a volatility is known it is the
        # width whose own tracking error equals the budget (a uniform drift over +/- h has RMS h / sqrt 3).
        fallback = math.sqrt(3.0) * self.rebalance.tracking_budget
        return tuple(
            AssetClass(
                name=c.name,
                assets=tuple(c.assets),
                target=c.target,
                weights=c.split(),
                band=fallback if c.band == "auto" else c.band,
                band_relative=c.band_relative,
                hedge=c.hedge,
                cash=c.cash,
                band_auto=c.band == "auto",
            )
            for c in self.classes
        )

    def volatility_lookback(self) -> timedelta | None:
        """The window of realised volatility that bands need: ``[trigger.adaptive] lookback``, else
        ``[rebalance] lookback`` when a class has ``band = "auto"`` or ``auto`` estimates a hedge's funding horizon
        from its class's drift, else None (nothing needs volatility)."""
        if self.trigger.adaptive is not None:
            return self.trigger.adaptive.lookback_period
        if any(c.band_auto for c in self.classes) or self._horizon_from_drift():
            return parse_duration(self.rebalance.lookback)
        return None

    def _horizon_from_drift(self) -> bool:
        """Whether ``auto`` estimates a hedge's funding horizon from its class's drift (it needs volatility)."""
        return (
            self.costs.funding_horizon_days == "auto"
            and self.rebalance.instrument == "auto"
            and any(c.hedge for c in self.classes)
        )

    def tax_rules(self) -> TaxRules | None:
        """The ``[tax]`` rules as a core value, or None when the policy has no ``[tax]``."""
        return self.tax.rules() if self.tax is not None else None

    @property
    def cash_class(self) -> ClassConfig:
        return next(c for c in self.classes if c.cash)

    def config_hash(self) -> str:
        """SHA-256 of the canonical JSON form; a run records it to say which policy it used."""
        document = self.model_dump(mode="json", by_alias=True)
        if not document.get("cash_flow"):
            del document["cash_flow"]  # a policy without flows keeps the hash it had before flows existed
        _drop_unset_exposure_keys(document["trigger"])
        if document["costs"].get("margin_rate") is None:
            document["costs"].pop("margin_rate", None)  # unset: the hash it had before the key existed
        if not document["costs"].get("liquidation_risk"):
            document["costs"].pop("liquidation_risk", None)
        canonical = json.dumps(document, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _drop_unset_exposure_keys(trigger: dict[str, Any]) -> None:
    """Remove an unset exposure key from a dumped trigger and its children (hashes predate those keys)."""
    for key in EXPOSURE_KEYS:
        if trigger.get(key) is None:
            trigger.pop(key, None)
    for child in trigger.get("of") or []:
        _drop_unset_exposure_keys(child)
