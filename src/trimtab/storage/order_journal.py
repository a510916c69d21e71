"""The journal's intents, orders and fills.

The execution writes an order row (status ``pending``, with its client order id) in its own committed
transaction before the request leaves; every later change is another small transaction. Fills are keyed by
``(venue, symbol, trade_id)`` (exchanges number trades per symbol): a fill seen twice is applied once, and a
fill that would take an order past its amount is refused (:class:`OverfillError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from trimtab.storage.database import Store
from trimtab.storage.fills import SETTLE_TOLERANCE, NewFill, apply_fill_row, is_short
from trimtab.storage.keyed_rows import change_row, find_row
from trimtab.storage.models import FillRow, IntentRow, OrderRow
from trimtab.storage.records import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    FillRecord,
    IntentRecord,
    OrderRecord,
    OverfillError,
    intent_record,
    order_record,
    utc,
)

_CHANGEABLE = frozenset({"status", "venue_order_id", "misses", "first_miss_at", "last_error", "price", "filled"})
"""The fields of an order :meth:`OrderJournal.update_order` may change."""


class OrderJournal:
    """The journal's intents, orders and fills; every method is one transaction."""

    store: Store

    # -- intents and orders --------------------------------------------------------------------------
    def add_intent(
        self,
        *,
        plan_id: str,
        leg: int,
        class_name: str,
        symbol: str,
        side: str,
        amount: float,
        reduce_only: bool,
        reference_price: float,
        algo: str,
        created_at: datetime,
    ) -> IntentRecord:
        """Record one leg of a plan before any of its orders exists (fenced by the run lease); returns it."""
        with self.store.transaction(fenced=True) as session:
            row = IntentRow(
                plan_id=plan_id,
                leg=leg,
                class_name=class_name,
                symbol=symbol,
                side=side,
                amount=amount,
                reduce_only=reduce_only,
                reference_price=reference_price,
                algo=algo,
                status="open",
                created_at=created_at,
            )
            session.add(row)
            session.flush()
            return intent_record(row)

    def set_intent_status(self, intent_id: int, status: str) -> None:
        """Mark a leg done, partial, refused or unresolved."""
        with self.store.transaction() as session:
            row = session.get(IntentRow, intent_id)
            if row is not None:
                row.status = status

    def intents(self, plan_id: str | None = None, status: str | None = None) -> list[IntentRecord]:
        """Legs, oldest first, optionally of one plan or with one status."""
        with self.store.transaction() as session:
            query = select(IntentRow).order_by(IntentRow.id)
            if plan_id is not None:
                query = query.where(IntentRow.plan_id == plan_id)
            if status is not None:
                query = query.where(IntentRow.status == status)
            return [intent_record(row) for row in session.scalars(query)]

    def add_order(
        self,
        *,
        client_order_id: str,
        plan_id: str,
        intent_id: int | None,
        venue: str,
        symbol: str,
        side: str,
        order_type: str,
        amount: float,
        price: float | None,
        reduce_only: bool,
        created_at: datetime,
    ) -> OrderRecord:
        """Journal an order (status ``pending``) before its request leaves; commits on return.

        The transaction is fenced: it proves the run still holds its lease (``Store.fence``), so a run that
        lost it journals, and therefore sends, nothing (:class:`~trimtab.app.lock.LockLostError`).
        """
        with self.store.transaction(fenced=True) as session:
            row = OrderRow(
                client_order_id=client_order_id,
                plan_id=plan_id,
                intent_id=intent_id,
                venue=venue,
                symbol=symbol,
                side=side,
                order_type=order_type,
                amount=amount,
                price=price,
                reduce_only=reduce_only,
                filled=0.0,
                average_price=None,
                fee=0.0,
                status="pending",
                venue_order_id=None,
                misses=0,
                first_miss_at=None,
                last_error="",
                created_at=created_at,
                updated_at=created_at,
            )
            session.add(row)
            session.flush()
            return order_record(row)

    def update_order(self, client_order_id: str, now: datetime, **changes: Any) -> OrderRecord:
        """Change an order's fields (status, venue_order_id, misses, last_error ...) in one transaction."""
        return change_row(
            self.store, OrderRow.client_order_id, client_order_id, now, changes,
            allowed=_CHANGEABLE, noun="an order", record=order_record,
        )  # fmt: skip

    def order(self, client_order_id: str) -> OrderRecord | None:
        """The order with this client id, or None."""
        return find_row(self.store, OrderRow.client_order_id, client_order_id, order_record)

    def orders(self, *, open_only: bool = False, plan_id: str | None = None) -> list[OrderRecord]:
        """Orders, oldest first (the ``orders`` command's order: newest last)."""
        with self.store.transaction() as session:
            query = select(OrderRow).order_by(OrderRow.id)
            if open_only:
                query = query.where(OrderRow.status.in_(OPEN_STATUSES))
            if plan_id is not None:
                query = query.where(OrderRow.plan_id == plan_id)
            return [order_record(row) for row in session.scalars(query)]

    def orders_since(self, since: datetime) -> list[OrderRecord]:
        """Orders created at or after ``since`` (for the per-day caps)."""
        with self.store.transaction() as session:
            query = select(OrderRow).where(OrderRow.created_at >= since).order_by(OrderRow.id)
            return [order_record(row) for row in session.scalars(query)]

    # -- fills ---------------------------------------------------------------------------------------
    def apply_fill(
        self,
        *,
        venue: str,
        trade_id: str,
        client_order_id: str,
        amount: float,
        price: float,
        fee: float,
        fee_currency: str,
        timestamp: datetime,
    ) -> bool:
        """Record a fill once and roll it into its order's filled amount, average price and fee.

        Returns
        -------
        bool
            True when the fill was new, False when its ``(venue, symbol, trade_id)`` was already applied.

        Raises
        ------
        OverfillError
            If the fill would take the order past its amount (nothing is written).
        KeyError
            If no order has ``client_order_id``.
        """
        fill = NewFill(trade_id, amount, price, fee, fee_currency, timestamp)
        with self.store.transaction() as session:
            order = session.scalars(select(OrderRow).where(OrderRow.client_order_id == client_order_id)).first()
            if order is None:
                raise KeyError(client_order_id)
            return apply_fill_row(session, venue, order, fill)

    def settle_order(
        self,
        client_order_id: str,
        now: datetime,
        *,
        venue: str,
        fills: Sequence[NewFill],
        status: str,
        open_status: str,
        venue_filled: float | None,
        **changes: Any,
    ) -> tuple[OrderRecord, int]:
        """Apply an order's fills and its new status in one transaction: a final status never lands without
        the fills that make it up.

        ``status`` is what the venue says; when it is final but the journal's fills (these included) fall
        short of ``venue_filled`` (the venue's trade list lags its order), ``open_status`` is written instead,
        so the order stays followed until they arrive.

        Returns
        -------
        tuple[OrderRecord, int]
            The order as journaled, and how many fills were new.

        Raises
        ------
        OverfillError
            If a fill would take the order past its amount (the fills before it are journaled, the order is
            left open, and the error raised once that is committed).
        """
        overfill: OverfillError | None = None
        with self.store.transaction() as session:
            order = session.scalars(select(OrderRow).where(OrderRow.client_order_id == client_order_id)).one()
            new = 0
            for fill in fills:
                try:
                    new += apply_fill_row(session, venue, order, fill)
                except OverfillError as error:
                    overfill = error  # the fills before it stand; the order stays open for a person to look
                    break
            short = venue_filled is not None and venue_filled > order.filled + SETTLE_TOLERANCE * max(1.0, order.amount)
            final = status in FINAL_STATUSES and not short and overfill is None
            order.status = status if final or status not in FINAL_STATUSES else open_status
            order.venue_filled = venue_filled
            for name, value in changes.items():
                setattr(order, name, value)
            order.updated_at = now
            record = order_record(order)
        if overfill is not None:
            raise overfill
        return record, new

    def unsettled_orders(self) -> list[OrderRecord]:
        """Final orders whose journaled fills do not add up to what they claim: ``filled`` short of the
        amount, or of what the venue reported filled. Reconciliation fetches their fills again."""
        with self.store.transaction() as session:
            # The database keeps only the candidates (a superset of the short ones, tested row by row
            # in SQL), so a cycle never loads every order ever placed; is_short then decides exactly.
            candidates = or_(
                and_(OrderRow.status == "filled", OrderRow.filled < OrderRow.amount),
                and_(OrderRow.venue_filled.is_not(None), OrderRow.venue_filled > OrderRow.filled),
            )
            final = select(OrderRow).where(OrderRow.status.in_(FINAL_STATUSES), candidates).order_by(OrderRow.id)
            rows = session.scalars(final)
            return [order_record(r) for r in rows if is_short(r)]

    def fills(self, client_order_id: str | None = None) -> list[FillRecord]:
        """Fills, oldest first, optionally of one order."""
        with self.store.transaction() as session:
            query = select(FillRow).order_by(FillRow.id)
            if client_order_id is not None:
                query = query.where(FillRow.client_order_id == client_order_id)
            return [
                FillRecord(
                    r.trade_id,
                    r.client_order_id,
                    r.symbol,
                    r.side,
                    r.amount,
                    r.price,
                    r.fee,
                    utc(r.timestamp) or r.timestamp,
                )
                for r in session.scalars(query)
            ]

    def known_trade_ids(self, venue: str) -> set[str]:
        """Every trade id already applied from ``venue``."""
        with self.store.transaction() as session:
            return set(session.scalars(select(FillRow.trade_id).where(FillRow.venue == venue)))
