"""The clocks of a run: the wall clock (live venues, live prices), a replay's and a fixed snapshot's.

A paper run's market can stand still within a cycle: a replayed bar and a fixed snapshot have one price until
the next cycle, so a wait inside the cycle (a chase's, a TWAP's spacing, a poll) cannot change what fills.
Their clocks therefore pass such a wait at once, moving their time forward by it instead of sleeping: a
resting limit that the market cannot trade through is cancelled and re-priced without waiting, and its
market fallback fills at the price the wait would have ended on. Waits between cycles (``--interval``) stay
on the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from trimtab.storage.state import StateStore

SNAPSHOT_CLOCK = "snapshot_clock"
"""State key: the fixed snapshot's timestamp and the wall time the run on it first started."""


def wall_clock() -> datetime:
    return datetime.now(UTC)


class VirtualClock:
    """The time of a replay: the current bar's close plus whatever the execution 'slept' within the cycle."""

    def __init__(self, base: Callable[[], datetime]) -> None:
        self.base = base
        self.offset = 0.0

    def __call__(self) -> datetime:
        return self.base() + timedelta(seconds=self.offset)

    def sleep(self, seconds: float) -> None:
        self.offset += max(seconds, 0.0)

    def reset(self) -> None:
        self.offset = 0.0


class SnapshotClock:
    """The time of a paper run on one fixed snapshot: its ``timestamp``, advancing at the wall clock's pace.

    A snapshot is a moment: valued then (an option's time to expiry, a dated future's expiry), a run on it
    sees what ``plan`` sees on the same files. The wall time of the run's first start on that snapshot is
    kept in the journal, so a restarted run goes on from where the clock was; a new snapshot starts again
    at its own timestamp. A wait within a cycle (:meth:`sleep`) passes at once and moves the clock forward
    by its length, kept in the journal too, so the clock never goes back, across restarts included.
    """

    def __init__(self, moment: datetime, state: StateStore, wall: Callable[[], datetime] = wall_clock) -> None:
        self.moment = moment
        self.state = state
        self.wall = wall
        stored = state.get(SNAPSHOT_CLOCK)
        if isinstance(stored, dict) and stored.get("moment") == moment.isoformat():
            self.origin = datetime.fromisoformat(stored["wall"])
        else:
            self.origin = wall()
            self._save()

    def __call__(self) -> datetime:
        return self.moment + (self.wall() - self.origin)

    def sleep(self, seconds: float) -> None:
        """Pass ``seconds`` at once: the snapshot's prices cannot move while the cycle waits."""
        if seconds > 0:
            self.origin -= timedelta(seconds=seconds)
            self._save()

    def _save(self) -> None:
        self.state.set(SNAPSHOT_CLOCK, {"moment": self.moment.isoformat(), "wall": self.origin.isoformat()})
