"""The journal's tax lots: the lots open now, and the last fill they include.

The open lots are rewritten as a whole, in one transaction with the id of the last journaled fill they
include (``through_fill``), so a crash between a fill and the lots' update loses nothing: the next reader
applies every fill after that id (:func:`trimtab.app.lots.current_lots`) and stores the result. A journal
whose lots were never set has no ``tax_lot_marks`` row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from trimtab.domain.lots import Lot, LotBook
from trimtab.storage.database import Store
from trimtab.storage.models import Base
from trimtab.storage.records import utc

MARK = "lots"


class TaxLotRow(Base):
    """One open lot: an amount of an asset bought at ``cost`` per unit at ``acquired``."""

    __tablename__ = "tax_lots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset: Mapped[str] = mapped_column(String(16), index=True)
    amount: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    acquired: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    venue: Mapped[str | None] = mapped_column(String(64), nullable=True)


class TaxLotMarkRow(Base):
    """The last journaled fill the open lots include (one row, keyed ``lots``)."""

    __tablename__ = "tax_lot_marks"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    through_fill: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LotJournal:
    """Reads and replaces the journal's open lots."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def read(self) -> tuple[LotBook, int] | None:
        """The open lots and the last fill id they include; None when lots were never stored."""
        with self.store.transaction() as session:
            mark = session.get(TaxLotMarkRow, MARK)
            if mark is None:
                return None
            rows = session.scalars(select(TaxLotRow).order_by(TaxLotRow.id))
            lots = [Lot(r.asset, r.amount, r.cost, utc(r.acquired) or r.acquired, r.venue) for r in rows]
            return LotBook(lots), mark.through_fill

    def replace(self, book: LotBook, through_fill: int, now: datetime) -> None:
        """Store ``book`` as the open lots, including every fill up to id ``through_fill``, atomically."""
        with self.store.transaction() as session:
            session.execute(delete(TaxLotRow))
            for lot in book.lots:
                session.add(
                    TaxLotRow(asset=lot.asset, amount=lot.amount, cost=lot.cost, acquired=lot.acquired, venue=lot.venue)
                )
            mark = session.get(TaxLotMarkRow, MARK)
            if mark is None:
                session.add(TaxLotMarkRow(name=MARK, through_fill=through_fill, updated_at=now))
            else:
                mark.through_fill = through_fill
                mark.updated_at = now


def spot_fills_after(store: Store, fill_id: int) -> list[tuple[int, str, str, float, float, datetime]]:
    """Journaled fills with an id above ``fill_id``, oldest first: ``(id, symbol, side, amount, price, time)``."""
    from trimtab.storage.models import FillRow

    with store.transaction() as session:
        rows = session.scalars(select(FillRow).where(FillRow.id > fill_id).order_by(FillRow.id))
        return [(r.id, r.symbol, r.side, r.amount, r.price, utc(r.timestamp) or r.timestamp) for r in rows]
