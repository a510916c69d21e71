"""Applying fills to an order inside one transaction: each trade id once, never past the order's amount."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trimtab.storage.models import FillRow, OrderRow
from trimtab.storage.records import OVERFILL_TOLERANCE, OverfillError

SETTLE_TOLERANCE = 1e-9
"""Relative slack when comparing the journal's fills with the amount the venue reports filled."""


@dataclass(frozen=True)
class NewFill:
    """A fill to journal: the venue's trade id, amount, price and fee (see :meth:`Journal.settle_order`)."""

    trade_id: str
    amount: float
    price: float
    fee: float
    fee_currency: str
    timestamp: datetime


def is_short(row: OrderRow) -> bool:
    """Whether a final order's journaled fills fall short of what it claims (its amount, or the venue's figure)."""
    slack = SETTLE_TOLERANCE * max(1.0, row.amount)
    if row.status == "filled" and row.filled < row.amount * (1.0 - 1e-6):
        return True
    return row.venue_filled is not None and row.venue_filled > row.filled + slack


def apply_fill_row(session: Session, venue: str, order: OrderRow, fill: NewFill) -> bool:
    """Journal ``fill`` of ``order`` once (by symbol and trade id) within ``session``; False when already there."""
    seen = session.scalars(
        select(FillRow.id).where(
            FillRow.venue == venue, FillRow.symbol == order.symbol, FillRow.trade_id == fill.trade_id
        )
    ).first()
    if seen is not None:
        return False
    filled = order.filled + fill.amount
    if filled > order.amount * (1.0 + OVERFILL_TOLERANCE) + 1e-12:
        raise OverfillError(
            f"fill {fill.trade_id} of {fill.amount:g} would take order {order.client_order_id} to {filled:g} "
            f"of {order.amount:g}; refused"
        )
    previous_value = (order.average_price or 0.0) * order.filled
    order.filled = filled
    order.average_price = (previous_value + fill.amount * fill.price) / filled if filled > 0 else None
    order.fee = order.fee + fill.fee
    order.updated_at = fill.timestamp
    session.add(
        FillRow(
            venue=venue,
            trade_id=fill.trade_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            amount=fill.amount,
            price=fill.price,
            fee=fill.fee,
            fee_currency=fill.fee_currency,
            timestamp=fill.timestamp,
        )
    )
    session.flush()
    return True
