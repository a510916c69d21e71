"""The portfolio file: spot holdings per venue and derivative positions."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.lots import LotBook
from trimtab.domain.portfolio import DEFAULT_VENUE, DerivativePosition, Portfolio, SpotHolding
from trimtab.errors import BadInputError
from trimtab.limits import MAX_AMOUNT
from trimtab.loaders.files import read_document
from trimtab.loaders.lots import LotEntry, lot_book
from trimtab.loaders.market import MAX_PRICE, MIN_PRICE
from trimtab.loaders.validation import check_asset_code, quote_key, validate
from trimtab.policy.config import StrictModel


def _asset(value: str) -> str:
    code = value.strip().upper()
    problem = check_asset_code(code)
    if problem is not None:
        raise ValueError(problem)
    return code


class SpotEntry(StrictModel):
    asset: str
    amount: float = Field(ge=0, le=MAX_AMOUNT)
    venue: str = Field(default=DEFAULT_VENUE, min_length=1)

    _asset = field_validator("asset")(_asset)


class DerivativeEntry(StrictModel):
    symbol: str
    amount: float
    entry_price: float | None = Field(default=None, ge=MIN_PRICE, le=MAX_PRICE)
    leverage: float = Field(default=1.0, gt=0, le=200)
    venue: str = Field(default=DEFAULT_VENUE, min_length=1)
    liquidation_price: float | None = Field(default=None, ge=0, le=MAX_PRICE)

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        if value != value.strip():
            raise ValueError("a symbol must not have spaces around it")
        if not parse_symbol(value).is_derivative:
            raise ValueError(f"{value!r} is spot; list spot holdings under [[spot]]")
        return value

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: float) -> float:
        if value == 0:
            raise ValueError("must not be zero (negative = short)")
        if abs(value) > MAX_AMOUNT:
            raise ValueError(f"must be between -{MAX_AMOUNT:g} and {MAX_AMOUNT:g}")
        return value

    @model_validator(mode="after")
    def _entry(self) -> DerivativeEntry:
        kind = parse_symbol(self.symbol).kind
        if kind is not InstrumentKind.OPTION and self.entry_price is None:
            raise ValueError("entry_price: required for a perpetual or future")
        return self


class AccountEntry(StrictModel):
    """One ``[[account]]`` table: the venue name rows use, its exchange, kind, margin mode and collateral."""

    name: str = Field(min_length=1)
    exchange: str = Field(min_length=1)
    kind: Literal["spot", "derivatives", "unified"]
    margin_mode: Literal["cross", "isolated"] | None = None
    collateral: dict[str, float] | None = None

    @field_validator("collateral")
    @classmethod
    def _collateral(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        out: dict[str, float] = {}
        for asset, haircut in value.items():
            code = _asset(asset)
            if not 0.0 <= haircut <= 1.0:
                raise ValueError(f"{asset}: a haircut must be between 0 and 1")
            if code in out:
                raise ValueError(f"{asset} is listed twice (codes ignore case)")
            out[code] = haircut
        return out

    @model_validator(mode="after")
    def _mode(self) -> AccountEntry:
        if self.kind == "spot" and self.margin_mode is not None:
            raise ValueError("margin_mode: a spot account holds no margin positions")
        return self

    def to_account(self, base_currency: str) -> Account:
        collateral = self.collateral if self.collateral is not None else {base_currency: 1.0}
        return Account(
            self.name,
            self.exchange,
            AccountKind(self.kind),
            MarginMode(self.margin_mode or "cross"),
            collateral,
        )


class PortfolioFile(StrictModel):
    base_currency: str
    account: list[AccountEntry] = []
    spot: list[SpotEntry] = []
    derivatives: list[DerivativeEntry] = []
    lots: list[LotEntry] = []

    _base = field_validator("base_currency")(_asset)

    def to_portfolio(self) -> Portfolio:
        positions = []
        for d in self.derivatives:
            instrument = parse_symbol(d.symbol)
            entry = d.entry_price if d.entry_price is not None else 0.0
            positions.append(DerivativePosition(instrument, d.amount, entry, d.leverage, d.venue, d.liquidation_price))
        return Portfolio(
            base_currency=self.base_currency,
            spot=tuple(SpotHolding(s.asset, s.amount, s.venue) for s in self.spot),
            derivatives=tuple(positions),
            accounts=tuple(a.to_account(self.base_currency) for a in self.account),
        )


def check_accounts(parsed: PortfolioFile, source: str) -> None:
    """Account names are unique, and no spot account holds a derivative.

    Raises
    ------
    BadInputError
        Naming the file and the field of the first problem.
    """
    kinds: dict[str, str] = {}
    for index, account in enumerate(parsed.account):
        if account.name in kinds:
            raise BadInputError(source, f"account[{index}].name", f"{account.name!r} is declared twice")
        kinds[account.name] = account.kind
    for index, row in enumerate(parsed.derivatives):
        if kinds.get(row.venue) == "spot":
            raise BadInputError(
                source,
                f"derivatives[{index}].venue",
                f"{quote_key(row.venue)} is a spot account; it cannot hold the derivative {row.symbol}",
            )


def load_portfolio(path: Path | str) -> tuple[Portfolio, PortfolioFile]:
    """Read and validate a portfolio file; raises BadInputError naming file and field."""
    document = read_document(path)
    source = Path(path).name
    parsed = validate(PortfolioFile, document, source)
    check_accounts(parsed, source)
    return parsed.to_portfolio(), parsed


def load_lots(path: Path | str) -> tuple[Portfolio, LotBook | None]:
    """Read a portfolio file with its ``[[lots]]`` (None when it lists none), checked against the holdings."""
    portfolio, parsed = load_portfolio(path)
    return portfolio, lot_book(parsed.lots, portfolio, Path(path).name)
