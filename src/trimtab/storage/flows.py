"""The journal's cash flows: deposits and withdrawals the user recorded (``trimtab flow``, the dashboard's API).

A row is what reached (or left) the account, in the base currency: paper runs credit it to the paper account
once, live runs only record it (trimtab never moves money in or out of an exchange); the next cycle steers it
(:mod:`trimtab.planner.flows`). ``reference`` is unique: recording the same reference twice (a retried API
call) returns the first row and adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from trimtab.storage.database import Store
from trimtab.storage.models import Base
from trimtab.storage.records import utc


class CashFlowRow(Base):
    """One deposit (``amount`` > 0) or withdrawal (< 0) in the base currency ``asset``."""

    __tablename__ = "cash_flows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True, slots=True)
class CashFlow:
    """A journaled cash flow."""

    id: int
    reference: str
    recorded_at: datetime
    asset: str
    amount: float
    source: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "recorded_at": self.recorded_at.isoformat().replace("+00:00", "Z"),
            "asset": self.asset,
            "amount": self.amount,
            "kind": "deposit" if self.amount > 0 else "withdrawal",
            "source": self.source,
            "note": self.note,
        }


def _flow(row: CashFlowRow) -> CashFlow:
    return CashFlow(
        row.id, row.reference, utc(row.recorded_at) or row.recorded_at, row.asset, row.amount, row.source, row.note
    )


def record_flow(
    store: Store, *, reference: str, amount: float, asset: str, source: str, note: str, now: datetime
) -> tuple[CashFlow, bool]:
    """Journal a flow; returns it and whether it is new (False: ``reference`` was recorded before, unchanged)."""
    with store.transaction() as session:
        known = session.scalars(select(CashFlowRow).where(CashFlowRow.reference == reference)).first()
        if known is not None:
            return _flow(known), False
        row = CashFlowRow(reference=reference, recorded_at=now, asset=asset, amount=amount, source=source, note=note)
        session.add(row)
        session.flush()
        return _flow(row), True


def flows_after(store: Store, flow_id: int) -> list[CashFlow]:
    """The flows with an id above ``flow_id``, oldest first (every flow for 0)."""
    with store.transaction() as session:
        rows = session.scalars(select(CashFlowRow).where(CashFlowRow.id > flow_id).order_by(CashFlowRow.id))
        return [_flow(row) for row in rows]
