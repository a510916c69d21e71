"""The journal's plans, valuation snapshots and decisions: what each cycle saw and why it acted or not."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from trimtab.storage.database import Store
from trimtab.storage.models import DecisionRow, PlanRow, SnapshotRow
from trimtab.storage.records import utc


class DecisionJournal:
    """The journal's plans, snapshots and decisions; every method is one transaction."""

    store: Store

    # -- plans ---------------------------------------------------------------------------------------
    def save_plan(
        self,
        plan_id: str,
        *,
        created_at: datetime,
        cycle: int,
        venue: str,
        equity: float,
        triggered: bool,
        reason: str,
        status: str,
        payload: dict[str, Any],
        policy_hash: str = "",
    ) -> None:
        """Record a plan (``status``: pending, approved, executing, done, unresolved, dry-run...)."""
        with self.store.transaction() as session:
            session.add(
                PlanRow(
                    id=plan_id,
                    created_at=created_at,
                    cycle=cycle,
                    venue=venue,
                    equity=equity,
                    triggered=triggered,
                    reason=reason,
                    status=status,
                    payload=payload,
                    policy_hash=policy_hash,
                )
            )

    def set_plan_status(self, plan_id: str, status: str) -> None:
        """Change a plan's status (raises KeyError for an unknown plan)."""
        with self.store.transaction() as session:
            row = session.get(PlanRow, plan_id)
            if row is None:
                raise KeyError(plan_id)
            row.status = status

    def plan(self, plan_id: str) -> dict[str, Any] | None:
        """A plan row as a dict (``id``, ``status``, ``created_at``, ``payload`` ...), or None."""
        with self.store.transaction() as session:
            row = session.get(PlanRow, plan_id)
            return None if row is None else plan_dict(row)

    def plans(self, status: str | None = None) -> list[dict[str, Any]]:
        """Plans, oldest first, optionally only those with ``status``."""
        with self.store.transaction() as session:
            query = select(PlanRow).order_by(PlanRow.created_at, PlanRow.id)
            if status is not None:
                query = query.where(PlanRow.status == status)
            return [plan_dict(row) for row in session.scalars(query)]

    # -- snapshots and decisions ---------------------------------------------------------------------
    def save_snapshot(
        self, *, timestamp: datetime, cycle: int, equity: float, halted: bool, payload: dict[str, Any]
    ) -> None:
        """Record one cycle's valuation (``payload``: classes against bands, prices, holdings)."""
        with self.store.transaction() as session:
            session.add(SnapshotRow(timestamp=timestamp, cycle=cycle, equity=equity, halted=halted, payload=payload))

    def last_snapshot(self) -> dict[str, Any] | None:
        """The newest valuation: ``timestamp``, ``cycle``, ``equity``, ``halted`` and its ``payload``."""
        with self.store.transaction() as session:
            row = session.scalars(select(SnapshotRow).order_by(SnapshotRow.id.desc())).first()
            return None if row is None else snapshot_dict(row)

    def snapshots(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Valuations, oldest first (the newest ``limit`` when given)."""
        with self.store.transaction() as session:
            query = select(SnapshotRow).order_by(SnapshotRow.id.desc())
            if limit is not None:
                query = query.limit(limit)
            rows = list(session.scalars(query))
            return [snapshot_dict(r) for r in reversed(rows)]

    def add_decision(
        self, *, timestamp: datetime, cycle: int, kind: str, reason: str, payload: dict[str, Any] | None = None
    ) -> None:
        """Record why something was or was not done (``kind``: trigger, guard, pause, halt, funding...)."""
        with self.store.transaction() as session:
            session.add(DecisionRow(timestamp=timestamp, cycle=cycle, kind=kind, reason=reason, payload=payload or {}))

    def decisions(self, kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Decisions, oldest first, optionally only of some kinds."""
        with self.store.transaction() as session:
            query = select(DecisionRow).order_by(DecisionRow.id)
            if kinds is not None:
                query = query.where(DecisionRow.kind.in_(list(kinds)))
            return [
                {
                    "timestamp": utc(r.timestamp),
                    "cycle": r.cycle,
                    "kind": r.kind,
                    "reason": r.reason,
                    "payload": r.payload,
                }
                for r in session.scalars(query)
            ]

    def last_cycle(self) -> int:
        """The highest cycle number recorded in snapshots or decisions (0 when none).

        Cycle numbers never decrease from one row to the next, so the newest row of each table holds its
        highest: one look-up by primary key each, however long the journal.
        """
        with self.store.transaction() as session:
            a = session.scalar(select(SnapshotRow.cycle).order_by(SnapshotRow.id.desc()).limit(1)) or 0
            b = session.scalar(select(DecisionRow.cycle).order_by(DecisionRow.id.desc()).limit(1)) or 0
            return max(int(a), int(b))


def plan_dict(row: PlanRow) -> dict[str, Any]:
    """A plan row as the dict every reader of the journal gets (the dashboard too)."""
    return {
        "id": row.id,
        "created_at": utc(row.created_at),
        "cycle": row.cycle,
        "venue": row.venue,
        "equity": row.equity,
        "triggered": row.triggered,
        "reason": row.reason,
        "status": row.status,
        "policy_hash": row.policy_hash,
        "payload": row.payload,
    }


def snapshot_dict(row: SnapshotRow) -> dict[str, Any]:
    """A valuation row as a dict: ``timestamp``, ``cycle``, ``equity``, ``halted`` and its ``payload``."""
    return {
        "timestamp": utc(row.timestamp),
        "cycle": row.cycle,
        "equity": row.equity,
        "halted": row.halted,
        "payload": row.payload,
    }
