"""Key-value loop state: the halt flag, the last rebalance, the peak equity, the paper account.

Values are JSON documents. :meth:`StateStore.update` reads and writes one key in a single transaction, so
a change made by the paper venue (its whole account) lands entirely or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from trimtab.storage.database import Store
from trimtab.storage.models import StateRow

HALTED = "halted"
LAST_REBALANCE = "last_rebalance"
LAST_CHECK = "last_check"
PEAK_EQUITY = "peak_equity"
INITIAL_EQUITY = "initial_equity"
PAPER_ACCOUNT = "paper_account"


class StateStore:
    """Typed access to the ``state`` table of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key`` (``default`` when none)."""
        with self.store.transaction() as session:
            row = session.get(StateRow, key)
            return default if row is None else row.value

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` in one transaction."""
        with self.store.transaction() as session:
            row = session.get(StateRow, key)
            now = datetime.now(UTC)
            if row is None:
                session.add(StateRow(key=key, value=value, updated_at=now))
            else:
                row.value = value
                row.updated_at = now

    def set_many(self, values: dict[str, Any]) -> None:
        """Store several keys in one transaction (all or none: the paper venue's transfer between accounts)."""
        with self.store.transaction() as session:
            now = datetime.now(UTC)
            for key, value in values.items():
                row = session.get(StateRow, key)
                if row is None:
                    session.add(StateRow(key=key, value=value, updated_at=now))
                else:
                    row.value = value
                    row.updated_at = now

    def update(self, key: str, change: Callable[[Any], Any], default: Any = None) -> Any:
        """Apply ``change`` to the stored value (or ``default``) and store its result, atomically."""
        with self.store.transaction() as session:
            row = session.get(StateRow, key, with_for_update=True)
            new = change(default if row is None else row.value)
            now = datetime.now(UTC)
            if row is None:
                session.add(StateRow(key=key, value=new, updated_at=now))
            else:
                row.value = new
                row.updated_at = now
            return new

    def keys(self) -> list[str]:
        """Every key stored."""
        with self.store.transaction() as session:
            return list(session.scalars(select(StateRow.key)))

    # -- typed helpers ---------------------------------------------------------------------------------
    def halted(self) -> tuple[bool, str]:
        """Whether new orders are halted, and why."""
        value = self.get(HALTED) or {}
        return bool(value.get("halted", False)), str(value.get("reason", ""))

    def set_halted(self, halted: bool, reason: str = "") -> None:
        """Set or clear the halt flag (``trimtab kill`` / ``trimtab resume``)."""
        self.set(HALTED, {"halted": halted, "reason": reason})

    def get_time(self, key: str) -> datetime | None:
        """A moment stored under ``key`` (UTC), or None."""
        value = self.get(key)
        if not value:
            return None
        moment = datetime.fromisoformat(str(value))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def set_time(self, key: str, moment: datetime) -> None:
        """Store a moment under ``key`` (as ISO 8601 UTC)."""
        self.set(key, moment.astimezone(UTC).isoformat())
