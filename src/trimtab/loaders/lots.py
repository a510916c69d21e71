"""The portfolio file's ``[[lots]]``: tax lots, checked against the amounts held.

Lots are optional, per asset: an asset with lots must have lots that sum to the amount held (every venue
together) within 1e-9 relative; an asset without lots has an unknown cost, and a sale of it realises no
counted gain (the plan notes it). The base currency has no lots (it is what costs are counted in).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from trimtab.domain.lots import LOT_TOLERANCE, Lot, LotBook
from trimtab.domain.portfolio import Portfolio
from trimtab.errors import BadInputError
from trimtab.loaders.market import MAX_PRICE, parse_timestamp
from trimtab.loaders.validation import check_asset_code
from trimtab.policy.config import StrictModel


class LotEntry(StrictModel):
    """One ``[[lots]]`` table."""

    asset: str
    amount: float = Field(gt=0)
    cost: float = Field(ge=0, le=MAX_PRICE)
    acquired: datetime
    venue: str | None = Field(default=None, min_length=1)

    @field_validator("asset")
    @classmethod
    def _asset(cls, value: str) -> str:
        code = value.strip().upper()
        problem = check_asset_code(code)
        if problem is not None:
            raise ValueError(problem)
        return code

    @field_validator("acquired", mode="before")
    @classmethod
    def _acquired(cls, value: Any) -> datetime:
        return parse_timestamp(value)

    def to_lot(self) -> Lot:
        return Lot(self.asset, self.amount, self.cost, self.acquired, self.venue)


def lot_book(entries: list[LotEntry], portfolio: Portfolio, source: str) -> LotBook | None:
    """The portfolio's lots as a book, or None when the file lists none.

    Raises
    ------
    BadInputError
        Naming the file and the first lot of an asset whose lots do not sum to its held amount, or a lot of
        the base currency.
    """
    if not entries:
        return None
    first: dict[str, int] = {}
    totals: dict[str, float] = {}
    for index, entry in enumerate(entries):
        if entry.asset == portfolio.base_currency:
            raise BadInputError(source, f"lots[{index}].asset", f"{entry.asset} is the base currency; it has no lots")
        first.setdefault(entry.asset, index)
        totals[entry.asset] = totals.get(entry.asset, 0.0) + entry.amount
    for asset, total in totals.items():
        held = portfolio.spot_amount(asset)
        if abs(total - held) > LOT_TOLERANCE * max(abs(held), abs(total)):
            raise BadInputError(
                source,
                f"lots[{first[asset]}].amount",
                f"the lots of {asset} sum to {total:.12g} but the portfolio holds {held:.12g}",
            )
    return LotBook(tuple(entry.to_lot() for entry in entries))
