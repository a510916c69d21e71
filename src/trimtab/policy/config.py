"""The policy file's schema: typed, frozen, rejecting unknown keys.

The same schema reads TOML and JSON (the loaders pick by suffix). Every error names the field's path.
``Policy.asset_classes()`` turns the configuration into the core's :class:`~trimtab.domain.AssetClass`
values. ``Policy.model_json_schema()`` exports a JSON Schema.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, PrivateAttr, field_validator, model_validator

from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.lots import LotMethod, TaxRules
from trimtab.policy.durations import parse_duration

TARGET_SUM_TOLERANCE = 1e-6


class StrictModel(BaseModel):
    """Frozen, rejects unknown keys, NaN and infinities."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)


def _check_duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


def _check_asset(value: str) -> str:
    text = value.strip()
    if not text or "/" in text or ":" in text:
        raise ValueError(f"{value!r} is not an asset code such as 'BTC'")
    return text.upper()


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
        assets = [_check_asset(a) for a in value]
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
            keys = {_check_asset(k) for k in self.weights}
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
        return {_check_asset(k): v / total for k, v in self.weights.items()}


class AdaptiveConfig(StrictModel):
    """``[trigger.adaptive]``: bands that scale with volatility over ``reference_vol``."""

    lookback: str = "30d"
    reference_vol: float = Field(gt=0)
    min_band: float = Field(default=0.01, gt=0, lt=1)
    max_band: float = Field(default=0.15, gt=0, lt=1)

    _lookback = field_validator("lookback")(_check_duration)

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

    _every = field_validator("every")(_check_duration)

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

    _lookback = field_validator("lookback")(_check_duration)
    transfers: bool = True
    """Plan transfers between accounts of one exchange to fund openings; false cuts the openings instead."""


class FeeRates(StrictModel):
    """One instrument kind's fees: ``taker`` for orders that cross the book, ``maker`` for resting ones."""

    taker: float = Field(ge=0, lt=0.1)
    maker: float = Field(gt=-0.01, lt=0.1)


class FeesByKind(StrictModel):
    """``[costs.fees]``: fees per instrument kind, as exchanges charge them; a kind left out pays
    ``taker_fee`` / ``maker_fee``."""

    spot: FeeRates | None = None
    perp: FeeRates | None = None
    future: FeeRates | None = None
    option: FeeRates | None = None


class CostsConfig(StrictModel):
    """``[costs]``: the cost model the planner and the backtester share.

    ``fill`` is the liquidity an order is expected to take (a backtest charges it, a plan prices it):
    ``taker`` for market and TWAP execution, ``maker`` for limit execution, whose orders rest at the
    reference price (no slippage, the maker fee). ``slippage_model = "square-root"`` adds square-root
    impact on the bar's volume in backtests (``impact`` x the bar's volatility x sqrt(notional / volume)).
    """

    taker_fee: float = Field(default=0.0010, ge=0, lt=0.1)
    maker_fee: float = Field(default=0.0002, gt=-0.01, lt=0.1)
    slippage_bps: float = Field(default=5.0, ge=0, lt=10000)
    funding_horizon_days: float = Field(default=7.0, ge=0)
    fees: FeesByKind | None = None
    fill: Literal["taker", "maker"] = "taker"
    slippage_model: Literal["constant", "square-root"] = "constant"
    impact: float = Field(default=1.0, ge=0, le=100)
    margin_rate: float | None = Field(default=None, ge=0, le=1)
    """A year's return collateral could earn elsewhere; ``auto`` charges it on the margin a hedge ties up
    (None: 0, the contract's cost model, which counts fees, slippage, funding and tax only)."""
    liquidation_risk: bool = False
    """``auto`` also charges a hedge its expected liquidation loss over the holding time (false: the contract's
    cost model; liquidation risk is then only a constraint, the liquidation buffer a new hedge must clear)."""

    @property
    def margin_yield(self) -> float:
        """:attr:`margin_rate`, 0 when not set."""
        return 0.0 if self.margin_rate is None else self.margin_rate

    def fee_rate(self, kind: str, liquidity: str | None = None) -> float:
        """The fee rate of an order on an instrument ``kind`` (spot, perp, future, option) taking
        ``liquidity`` (``fill`` when not given)."""
        side = liquidity or self.fill
        rates = getattr(self.fees, kind, None) if self.fees is not None else None
        if rates is not None:
            return float(rates.taker if side == "taker" else rates.maker)
        return self.taker_fee if side == "taker" else self.maker_fee

    @property
    def fill_slippage(self) -> float:
        """The slippage fraction the expected fill pays: the policy's for a taker, none for a maker."""
        return self.slippage if self.fill == "taker" else 0.0

    @property
    def slippage(self) -> float:
        """Slippage as a fraction of notional."""
        return self.slippage_bps / 10000.0


class TaxConfig(StrictModel):
    """``[tax]``: how a sale picks its lots and the rates its realised gains pay."""

    method: Literal["fifo", "lifo", "hifo", "min-tax"] = "fifo"
    short_term_rate: float = Field(ge=0, le=1)
    long_term_rate: float = Field(ge=0, le=1)
    long_term_after: str = "365d"

    _long_term_after = field_validator("long_term_after")(_check_duration)

    def rules(self) -> TaxRules:
        """The core's value for these settings."""
        return TaxRules(
            LotMethod(self.method), self.short_term_rate, self.long_term_rate, parse_duration(self.long_term_after)
        )


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

    _lookback = field_validator("lookback")(_check_duration)

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

    _lookback = field_validator("lookback")(_check_duration)

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
    cash_flows: list[CashFlowConfig] = Field(alias="cash_flow", default_factory=list)
    """Backtests only: deposits and withdrawals on a schedule (paper and live record them with ``trimtab flow``)."""

    _base = field_validator("base_currency")(_check_asset)

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
        ``[rebalance] lookback`` when a class has ``band = "auto"``, else None (no band needs volatility)."""
        if self.trigger.adaptive is not None:
            return self.trigger.adaptive.lookback_period
        if any(c.band_auto for c in self.classes):
            return parse_duration(self.rebalance.lookback)
        return None

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
