"""The market snapshot file: prices, derivative quotes, volatilities and optional venue rules."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator

from trimtab.domain.instruments import parse_symbol
from trimtab.domain.market import DerivativeQuote, MarginTier, MarketRules, MarketSnapshot
from trimtab.errors import BadInputError
from trimtab.limits import MAX_PRICE, MIN_PRICE
from trimtab.loaders.files import read_document
from trimtab.loaders.validation import check_asset_code, quote_key, validate
from trimtab.policy.config import StrictModel

PositiveNumber = Annotated[float, Field(gt=0)]
__all__ = ["MAX_PRICE", "MIN_PRICE", "PositiveNumber", "load_market"]


Price = Annotated[float, Field(ge=MIN_PRICE, le=MAX_PRICE)]


class QuoteEntry(StrictModel):
    """One derivative's quote: mark price, funding and (options) implied volatility."""

    mark: float = Field(ge=MIN_PRICE, le=MAX_PRICE)
    funding_rate: float = Field(default=0.0, gt=-1, lt=1)
    funding_interval_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    iv: float | None = Field(default=None, gt=0, lt=20)


class TierEntry(StrictModel):
    """One margin tier, as ccxt's ``fetch_leverage_tiers`` gives it (an inverse market's in its coin)."""

    floor: float = Field(ge=0, le=MAX_PRICE)
    rate: float = Field(ge=0, lt=1)
    amount: float = Field(default=0.0, ge=0, le=MAX_PRICE)
    max_leverage: float = Field(gt=0, le=10000)


class RulesEntry(StrictModel):
    """A venue's rules for one market (lot size, minimums, contract size, margin tiers)."""

    amount_step: float = Field(default=0.0, ge=0)
    min_amount: float = Field(default=0.0, ge=0)
    min_notional: float = Field(default=0.0, ge=0)
    contract_size: float = Field(default=1.0, gt=0)
    margin_tiers: list[TierEntry] = []

    @field_validator("margin_tiers")
    @classmethod
    def _tiers(cls, tiers: list[TierEntry]) -> list[TierEntry]:
        if tiers and tiers[0].floor != 0:
            raise ValueError("the first tier's floor must be 0")
        for lower, upper in itertools.pairwise(tiers):
            if upper.floor <= lower.floor:
                raise ValueError("tiers must be listed by increasing floor")
            # ccxt's tiers keep the maintenance margin continuous: rate x floor - amount agrees at each floor.
            below = upper.floor * lower.rate - lower.amount
            above = upper.floor * upper.rate - upper.amount
            if abs(below - above) > 1e-6 * max(1.0, abs(below)):
                raise ValueError(
                    f"the maintenance margin jumps at floor {upper.floor:g} ({below:g} below, {above:g} above): "
                    "check the tiers' amounts"
                )
        return tiers


def parse_timestamp(value: object) -> datetime:
    """A snapshot time from TOML (a datetime value) or JSON (an ISO 8601 string); naive means UTC.

    Raises
    ------
    ValueError
        If the value is neither, or is a date without a time.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 time such as 2026-11-21T00:00:00Z") from None
    if not isinstance(value, datetime):
        kind = "a date without a time" if isinstance(value, date) else "not a time"
        raise ValueError(f"must be a time such as 2026-11-21T00:00:00Z ({kind})")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class MarketFile(StrictModel):
    """The whole snapshot file."""

    timestamp: datetime
    prices: dict[str, Price]
    derivatives: dict[str, QuoteEntry] = {}
    volatility: dict[str, PositiveNumber] = {}
    markets: dict[str, RulesEntry] = {}

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> datetime:
        return parse_timestamp(value)

    def to_snapshot(self) -> MarketSnapshot:
        return MarketSnapshot(
            timestamp=self.timestamp,
            prices=_asset_keys(self.prices),
            derivatives={
                s: DerivativeQuote(q.mark, q.funding_rate, q.funding_interval_hours, q.iv)
                for s, q in self.derivatives.items()
            },
            volatility=_asset_keys(self.volatility),
            markets={
                s: MarketRules(
                    r.amount_step,
                    r.min_amount,
                    r.min_notional,
                    r.contract_size,
                    tuple(MarginTier(t.floor, t.rate, t.amount, t.max_leverage) for t in r.margin_tiers),
                )
                for s, r in self.markets.items()
            },
        )


def _asset_keys(values: dict[str, float]) -> dict[str, float]:
    return {asset.strip().upper(): number for asset, number in values.items()}


def _check_keys(parsed: MarketFile, source: str) -> None:
    """Asset codes in ``prices``/``volatility``, ccxt symbols in ``derivatives``/``markets``."""
    for section in ("prices", "volatility"):
        seen: dict[str, str] = {}
        for asset in getattr(parsed, section):
            code = asset.strip().upper()
            problem = check_asset_code(code)
            if problem is not None:
                raise BadInputError(source, f"{section}.{quote_key(asset)}", problem)
            if code in seen:
                raise BadInputError(source, f"{section}.{asset}", f"repeats {seen[code]!r} (codes ignore case)")
            seen[code] = asset
    for section in ("derivatives", "markets"):
        for symbol in getattr(parsed, section):
            where = f"{section}.{quote_key(symbol)}"
            if symbol != symbol.strip():
                raise BadInputError(source, where, "a symbol must not have spaces around it")
            try:
                instrument = parse_symbol(symbol)
            except ValueError as exc:
                raise BadInputError(source, where, str(exc)) from None
            if section == "derivatives" and not instrument.is_derivative:
                raise BadInputError(source, where, "is a spot market; its price belongs under 'prices'")


def load_market(path: Path | str) -> MarketSnapshot:
    """Read and validate a market snapshot file.

    Returns
    -------
    MarketSnapshot
        Prices keyed by upper-case asset code, quotes and rules keyed by ccxt symbol, time in UTC.

    Raises
    ------
    BadInputError
        Naming the file and the field of the first problem.
    """
    return market_from_document(read_document(path), Path(path).name)


def market_from_document(document: Any, source: str) -> MarketSnapshot:
    """Validate a market snapshot already read (a file's, or one built from an exchange's tickers).

    Raises
    ------
    BadInputError
        Naming ``source`` and the field of the first problem.
    """
    parsed = validate(MarketFile, document, source)
    _check_keys(parsed, source)
    return parsed.to_snapshot()
