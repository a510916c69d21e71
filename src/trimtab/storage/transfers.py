"""The journal's transfers between wallets of one exchange, written before the request leaves.

A transfer row has trimtab's ``transfer_id`` (unique), the exchange's id once known and a status:
``pending`` (intent committed, request not known to have left), ``unknown`` (sent, answer lost: to be
looked up in the exchange's history), ``done``, ``rejected`` (the exchange refused it) or ``lost`` (looked
up and absent after the grace period: it never happened). An exchange id is claimed by one row only, so
a lookup never takes another transfer for this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from trimtab.storage.database import Store
from trimtab.storage.keyed_rows import change_row, find_row
from trimtab.storage.models import Base
from trimtab.storage.records import utc

FINAL_TRANSFER_STATUSES = frozenset({"done", "rejected", "lost"})
_CHANGEABLE = frozenset({"status", "exchange_transfer_id", "misses", "last_error"})


class TransferRow(Base):
    """One transfer between two wallets of an exchange; written ``pending`` before the request is sent."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(String(40), unique=True)
    plan_id: Mapped[str] = mapped_column(String(16), index=True, default="")
    exchange: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float] = mapped_column(Float)
    from_wallet: Mapped[str] = mapped_column(String(32))
    to_wallet: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    exchange_transfer_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    misses: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class TransferRecord:
    """A journaled transfer."""

    transfer_id: str
    plan_id: str
    exchange: str
    asset: str
    amount: float
    from_wallet: str
    to_wallet: str
    status: str
    exchange_transfer_id: str | None
    misses: int
    last_error: str
    created_at: datetime
    updated_at: datetime

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_TRANSFER_STATUSES


def _record(row: TransferRow) -> TransferRecord:
    created, updated = utc(row.created_at), utc(row.updated_at)
    assert created is not None and updated is not None
    return TransferRecord(
        row.transfer_id,
        row.plan_id,
        row.exchange,
        row.asset,
        row.amount,
        row.from_wallet,
        row.to_wallet,
        row.status,
        row.exchange_transfer_id,
        row.misses,
        row.last_error,
        created,
        updated,
    )


class TransferJournal:
    """The transfers table: add an intent, change its status, list and look up."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        *,
        transfer_id: str,
        plan_id: str,
        exchange: str,
        asset: str,
        amount: float,
        from_wallet: str,
        to_wallet: str,
        created_at: datetime,
    ) -> TransferRecord:
        """Journal a transfer (status ``pending``) before its request leaves; commits on return.

        Fenced like an order's intent: a run that lost its lease journals, and so sends, no transfer.
        """
        with self.store.transaction(fenced=True) as session:
            row = TransferRow(
                transfer_id=transfer_id,
                plan_id=plan_id,
                exchange=exchange,
                asset=asset,
                amount=amount,
                from_wallet=from_wallet,
                to_wallet=to_wallet,
                status="pending",
                exchange_transfer_id=None,
                misses=0,
                last_error="",
                created_at=created_at,
                updated_at=created_at,
            )
            session.add(row)
            session.flush()
            return _record(row)

    def update(self, transfer_id: str, now: datetime, **changes: Any) -> TransferRecord:
        """Change a transfer's status, exchange id, misses or last error in one transaction."""
        return change_row(
            self.store, TransferRow.transfer_id, transfer_id, now, changes,
            allowed=_CHANGEABLE, noun="a transfer", record=_record,
        )  # fmt: skip

    def get(self, transfer_id: str) -> TransferRecord | None:
        return find_row(self.store, TransferRow.transfer_id, transfer_id, _record)

    def all(self, *, unresolved_only: bool = False) -> list[TransferRecord]:
        """Every transfer, oldest first (or only those not final)."""
        with self.store.transaction() as session:
            query = select(TransferRow).order_by(TransferRow.id)
            if unresolved_only:
                query = query.where(TransferRow.status.not_in(sorted(FINAL_TRANSFER_STATUSES)))
            return [_record(row) for row in session.scalars(query)]

    def claimed_exchange_ids(self) -> set[str]:
        """Exchange transfer ids already matched to a journaled transfer."""
        with self.store.transaction() as session:
            query = select(TransferRow.exchange_transfer_id).where(TransferRow.exchange_transfer_id.is_not(None))
            return {str(value) for value in session.scalars(query)}
