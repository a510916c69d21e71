"""A paper run on one fixed snapshot runs at the snapshot's moment, advancing at the wall clock's pace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trimtab.app.wiring import snapshot_clock
from trimtab.storage import open_store
from trimtab.storage.state import StateStore

SNAPSHOT = datetime(2026, 11, 21, tzinfo=UTC)


class Wall:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_the_clock_starts_at_the_snapshot_and_a_restart_goes_on_from_where_it_was() -> None:
    state = StateStore(open_store("sqlite:///:memory:"))
    wall = Wall()
    clock = snapshot_clock(SNAPSHOT, state, wall)
    assert clock() == SNAPSHOT
    wall.now += timedelta(minutes=90)
    assert clock() == SNAPSHOT + timedelta(minutes=90)
    wall.now += timedelta(hours=1)
    restarted = snapshot_clock(SNAPSHOT, state, wall)
    assert restarted() == SNAPSHOT + timedelta(minutes=150)


def test_a_new_snapshot_starts_the_clock_again_at_its_own_moment() -> None:
    state = StateStore(open_store("sqlite:///:memory:"))
    wall = Wall()
    snapshot_clock(SNAPSHOT, state, wall)
    wall.now += timedelta(days=1)
    later = SNAPSHOT + timedelta(days=3)
    assert snapshot_clock(later, state, wall)() == later
