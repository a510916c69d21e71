"""The market snapshot file: prices, derivative quotes, volatilities and optional venue rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, field_validator

from trimtab.domain.instruments import parse_symbol
from trimtab.domain.market import DerivativeQuote, MarketRules, MarketSnapshot
from trimtab.loaders.files import read_document
from trimtab.loaders.validation import validate
from trimtab.policy.config import StrictModel


class QuoteEntry(StrictModel):
    mark: float = Field(gt=0)
    funding_rate: float = Field(default=0.0, gt=-1, lt=1)
    funding_interval_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    iv: float | None = Field(default=None, gt=0, lt=20)


class RulesEntry(StrictModel):
    amount_step: float = Field(default=0.0, ge=0)
    min_amount: float = Field(default=0.0, ge=0)
    min_notional: float = Field(default=0.0, ge=0)
    contract_size: float = Field(default=1.0, gt=0)


class MarketFile(StrictModel):
    timestamp: datetime
    prices: dict[str, float]
    derivatives: dict[str, QuoteEntry] = {}
    volatility: dict[str, float] = {}
    markets: dict[str, RulesEntry] = {}

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @field_validator("prices", "volatility")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        out: dict[str, float] = {}
        for asset, number in value.items():
            if not number > 0:
                raise ValueError(f"{asset}: must be a positive number")
            code = asset.strip().upper()
            if not code or "/" in code or ":" in code:
                raise ValueError(f"{asset!r} is not an asset code such as 'BTC'")
            out[code] = number
        return out

    @field_validator("derivatives", "markets")
    @classmethod
    def _symbols(cls, value: dict[str, object]) -> dict[str, object]:
        for symbol in value:
            parse_symbol(symbol)
        return value

    def to_snapshot(self) -> MarketSnapshot:
        return MarketSnapshot(
            timestamp=self.timestamp,
            prices=dict(self.prices),
            derivatives={
                s: DerivativeQuote(q.mark, q.funding_rate, q.funding_interval_hours, q.iv)
                for s, q in self.derivatives.items()
            },
            volatility=dict(self.volatility),
            markets={
                s: MarketRules(r.amount_step, r.min_amount, r.min_notional, r.contract_size)
                for s, r in self.markets.items()
            },
        )


def load_market(path: Path | str) -> MarketSnapshot:
    """Read and validate a market snapshot file; raises BadInputError naming file and field."""
    document = read_document(path)
    return validate(MarketFile, document, Path(path).name).to_snapshot()
