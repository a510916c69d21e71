"""Rows the journal finds by the id trimtab gave them (an order's client id, a transfer's id).

Orders and transfers are journaled the same way: written before their request leaves, found again by the id
trimtab chose, and changed a few fields at a time (status, the exchange's id, misses, the last error), each
change one transaction that stamps ``updated_at``. These two functions are that mechanism; each journal names
its table's key column, the fields a change may touch and the record a row becomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from trimtab.storage.database import Store

R = TypeVar("R")


def find_row(store: Store, key: InstrumentedAttribute[str], value: str, record: Callable[[Any], R]) -> R | None:
    """The record of the row whose ``key`` column is ``value``, or None."""
    with store.transaction() as session:
        row = session.scalars(select(key.class_).where(key == value)).first()
        return None if row is None else record(row)


def change_row(
    store: Store,
    key: InstrumentedAttribute[str],
    value: str,
    now: datetime,
    changes: Mapping[str, Any],
    *,
    allowed: frozenset[str],
    noun: str,
    record: Callable[[Any], R],
) -> R:
    """Change the ``changes`` of the row whose ``key`` column is ``value`` and stamp its ``updated_at`` with
    ``now``, in one transaction; returns its record as changed.

    Raises
    ------
    ValueError
        If ``changes`` names a field outside ``allowed`` (nothing is written): ``cannot change [...] of {noun}``.
    sqlalchemy.exc.NoResultFound
        If no row has that key.
    """
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)} of {noun}")
    with store.transaction() as session:
        row = session.scalars(select(key.class_).where(key == value)).one()
        for name, field in changes.items():
            setattr(row, name, field)
        row.updated_at = now
        return record(row)
