"""A paper run on one fixed snapshot runs at the snapshot's moment, advancing at the wall clock's pace; a wait
within a cycle passes at once and moves the clock forward by its length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trimtab.app.clocks import SnapshotClock
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
    clock = SnapshotClock(SNAPSHOT, state, wall)
    assert clock() == SNAPSHOT
    wall.now += timedelta(minutes=90)
    assert clock() == SNAPSHOT + timedelta(minutes=90)
    wall.now += timedelta(hours=1)
    restarted = SnapshotClock(SNAPSHOT, state, wall)
    assert restarted() == SNAPSHOT + timedelta(minutes=150)


def test_a_new_snapshot_starts_the_clock_again_at_its_own_moment() -> None:
    state = StateStore(open_store("sqlite:///:memory:"))
    wall = Wall()
    SnapshotClock(SNAPSHOT, state, wall)
    wall.now += timedelta(days=1)
    later = SNAPSHOT + timedelta(days=3)
    assert SnapshotClock(later, state, wall)() == later


def test_a_wait_passes_at_once_moves_the_clock_and_a_restart_keeps_it() -> None:
    state = StateStore(open_store("sqlite:///:memory:"))
    wall = Wall()
    clock = SnapshotClock(SNAPSHOT, state, wall)
    clock.sleep(20.0)  # a chase's wait: the wall clock has not moved
    assert clock() == SNAPSHOT + timedelta(seconds=20)
    clock.sleep(0.0)
    clock.sleep(-5.0)  # nothing to wait
    assert clock() == SNAPSHOT + timedelta(seconds=20)
    wall.now += timedelta(seconds=3)
    assert clock() == SNAPSHOT + timedelta(seconds=23)
    # A restart on the same snapshot never sees time go back before what the waits passed.
    assert SnapshotClock(SNAPSHOT, state, wall)() == SNAPSHOT + timedelta(seconds=23)
