"""What the journal returns: plain frozen records, detached from any database session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trimtab.errors import NeedsHumanError
from trimtab.storage.models import IntentRow, OrderRow

OPEN_STATUSES = ("pending", "sent", "ambiguous", "new", "open", "partially_filled")
"""Order statuses that are not settled: the loop must resolve these with the venue before trading."""
FINAL_STATUSES = ("filled", "canceled", "rejected", "expired", "lost", "unsent")
OVERFILL_TOLERANCE = 1e-9
"""Relative slack for float rounding when checking that fills do not exceed an order's amount."""


class OverfillError(NeedsHumanError):
    """A fill would take an order past its amount: the venue and the journal disagree; a person must look."""


def utc(moment: datetime | None) -> datetime | None:
    """A timestamp as timezone-aware UTC (SQLite returns naive datetimes)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class OrderRecord:
    """An order as the journal knows it."""

    client_order_id: str
    plan_id: str
    intent_id: int | None
    venue: str
    symbol: str
    side: str
    order_type: str
    amount: float
    price: float | None
    reduce_only: bool
    filled: float
    average_price: float | None
    fee: float
    status: str
    venue_order_id: str | None
    misses: int
    first_miss_at: datetime | None
    last_error: str
    created_at: datetime
    updated_at: datetime
    venue_filled: float | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def notional(self) -> float:
        return self.amount * (self.price or self.average_price or 0.0)

    def to_dict(self) -> dict[str, Any]:
        """The ``orders`` command's JSON row."""
        return {
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side,
            "amount": self.amount,
            "filled": self.filled,
            "average_price": self.average_price,
            "fee": self.fee,
            "status": self.status,
            "venue": self.venue,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "type": self.order_type,
            "price": self.price,
            "reduce_only": self.reduce_only,
            "plan_id": self.plan_id,
        }


@dataclass(frozen=True)
class IntentRecord:
    """One leg of a plan."""

    id: int
    plan_id: str
    leg: int
    class_name: str
    symbol: str
    side: str
    amount: float
    reduce_only: bool
    reference_price: float
    algo: str
    status: str


@dataclass(frozen=True)
class FillRecord:
    trade_id: str
    client_order_id: str
    symbol: str
    side: str
    amount: float
    price: float
    fee: float
    timestamp: datetime


def order_record(row: OrderRow) -> OrderRecord:
    return OrderRecord(
        client_order_id=row.client_order_id,
        plan_id=row.plan_id,
        intent_id=row.intent_id,
        venue=row.venue,
        symbol=row.symbol,
        side=row.side,
        order_type=row.order_type,
        amount=row.amount,
        price=row.price,
        reduce_only=row.reduce_only,
        filled=row.filled,
        average_price=row.average_price,
        fee=row.fee,
        status=row.status,
        venue_order_id=row.venue_order_id,
        misses=row.misses,
        first_miss_at=utc(row.first_miss_at),
        last_error=row.last_error,
        created_at=utc(row.created_at) or datetime.min.replace(tzinfo=UTC),
        updated_at=utc(row.updated_at) or datetime.min.replace(tzinfo=UTC),
        venue_filled=row.venue_filled,
    )


def intent_record(row: IntentRow) -> IntentRecord:
    return IntentRecord(
        row.id,
        row.plan_id,
        row.leg,
        row.class_name,
        row.symbol,
        row.side,
        row.amount,
        row.reduce_only,
        row.reference_price,
        row.algo,
        row.status,
    )
