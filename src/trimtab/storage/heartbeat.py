"""Is the loop alive? Each ``trimtab run`` writes a heartbeat row; readers call it running, stopped or stale.

* ``trimtab run`` starts a row (:meth:`Heartbeat.begin`), stamps it after every cycle with the cycle's
  duration (:meth:`Heartbeat.beat`), and closes it when it stops on its own terms, saying why
  (:meth:`Heartbeat.end`: its cycles done, ``--once``, a replay at its last bar, a signal, an error).
* :func:`liveness` reads the newest row. **stopped**: no run ever wrote to the journal, or the newest one
  ended. **running**: the newest one has not ended and its last heartbeat is younger than
  :func:`stale_after` (twice the interval, plus 30 s or three cycle durations, whichever is more).
  **stale**: it has not ended but its heartbeat is older than that: the process was killed outright, the
  machine stopped, or a cycle hangs.

The durations also feed a cumulative histogram (:data:`CYCLE_BUCKETS`, Prometheus' ``le`` buckets) that
``/metrics`` exports as ``trimtab_cycle_duration_seconds``.
"""

from __future__ import annotations

import bisect
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select

from trimtab.storage.database import Store
from trimtab.storage.models import RunRow

log = logging.getLogger("trimtab.run")

CYCLE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""Upper bounds (seconds) of the cycle-duration histogram; a last, implicit bucket is +Inf."""
STALE_GRACE_S = 30.0

State = Literal["running", "stopped", "stale"]


def stale_after(interval_s: float, last_cycle_seconds: float | None) -> float:
    """Seconds without a heartbeat after which a run that has not ended is stale."""
    return 2.0 * interval_s + max(STALE_GRACE_S, 3.0 * (last_cycle_seconds or 0.0))


class Heartbeat:
    """The heartbeat of one run process on ``store``."""

    def __init__(
        self,
        store: Store,
        *,
        venue: str,
        interval_s: float,
        planned_cycles: int | None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.venue = venue
        self.interval_s = interval_s
        self.planned_cycles = planned_cycles
        self.clock = clock or (lambda: datetime.now(UTC))
        self.run_id: int | None = None

    def begin(self) -> Heartbeat:
        """Record the run's start (its first heartbeat); returns self."""
        now = self.clock()
        with self.store.transaction() as session:
            row = RunRow(
                started_at=now,
                heartbeat_at=now,
                end_reason="",
                venue=self.venue,
                pid=os.getpid(),
                host=socket.gethostname()[:255],
                interval_s=self.interval_s,
                planned_cycles=self.planned_cycles,
                cycles=0,
                cycle_seconds_sum=0.0,
                cycle_seconds_buckets=[0] * (len(CYCLE_BUCKETS) + 1),
            )
            session.add(row)
            session.flush()
            self.run_id = row.id
        return self

    def beat(self, cycle: int, seconds: float) -> None:
        """Stamp a finished cycle and its duration. A journal fault is logged, never raised into the loop."""
        try:
            self._update(lambda row: _count_cycle(row, cycle, seconds, self.clock()))
        except Exception as error:
            log.warning("heartbeat not written: %s", error)

    def end(self, reason: str) -> None:
        """Record that the run stopped, and why. A journal fault is logged, never raised."""
        try:
            self._update(lambda row: _close(row, reason, self.clock()))
        except Exception as error:
            log.warning("end of run not written: %s", error)

    def _update(self, change: Callable[[RunRow], None]) -> None:
        if self.run_id is None:
            return
        with self.store.transaction() as session:
            row = session.get(RunRow, self.run_id)
            if row is not None:
                change(row)


def _count_cycle(row: RunRow, cycle: int, seconds: float, now: datetime) -> None:
    row.heartbeat_at = now
    row.cycles += 1
    row.last_cycle = cycle
    row.last_cycle_seconds = seconds
    row.cycle_seconds_sum += seconds
    buckets = list(row.cycle_seconds_buckets or [0] * (len(CYCLE_BUCKETS) + 1))
    buckets[bisect.bisect_left(CYCLE_BUCKETS, seconds)] += 1
    row.cycle_seconds_buckets = buckets


def _close(row: RunRow, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.end_reason = reason


@dataclass(frozen=True)
class Liveness:
    """Whether the loop on a journal is running, stopped or stale, and the figures behind the verdict."""

    state: State
    reason: str
    heartbeat_at: datetime | None = None
    age_s: float | None = None
    interval_s: float | None = None
    stale_after_s: float | None = None
    run: dict[str, Any] | None = None

    def sentence(self) -> str:
        """``running: last cycle 12 s ago, expected every 60 s`` and the like."""
        return f"{self.state}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """The verdict for JSON (times as ISO 8601 with ``Z``)."""
        return {
            "state": self.state,
            "reason": self.reason,
            "heartbeat_at": _iso(self.heartbeat_at),
            "age_s": self.age_s,
            "interval_s": self.interval_s,
            "stale_after_s": self.stale_after_s,
            "run": self.run,
        }


def latest_run(store: Store) -> RunRow | None:
    """The newest run row, or None when no run has written to the journal."""
    with store.transaction() as session:
        row = session.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(1)).first()
        if row is not None:
            session.expunge(row)
        return row


def cycle_histogram(store: Store) -> tuple[list[int], float, int]:
    """Cycle durations over every run: per-bucket counts (not cumulative, +Inf last), their sum, their count."""
    counts = [0] * (len(CYCLE_BUCKETS) + 1)
    total, count = 0.0, 0
    with store.transaction() as session:
        for buckets, seconds, cycles in session.execute(
            select(RunRow.cycle_seconds_buckets, RunRow.cycle_seconds_sum, RunRow.cycles)
        ):
            for index, value in enumerate(list(buckets or [])[: len(counts)]):
                counts[index] += int(value)
            total += float(seconds)
            count += int(cycles)
    return counts, total, count


def liveness(store: Store, now: datetime | None = None) -> Liveness:
    """The verdict on the newest run of ``store`` at ``now`` (default: the clock)."""
    row = latest_run(store)
    if row is None:
        return Liveness("stopped", "no trimtab run has written to this journal")
    now = now or datetime.now(UTC)
    beat = _utc(row.heartbeat_at)
    age = max(0.0, (now - beat).total_seconds())
    run = _run_dict(row)
    if row.ended_at is not None:
        reason = f"the run ended {_ago((now - _utc(row.ended_at)).total_seconds())} ago: {row.end_reason}"
        return Liveness("stopped", reason, beat, age, row.interval_s, None, run)
    limit = stale_after(row.interval_s, row.last_cycle_seconds)
    what = "last cycle" if row.cycles else "started"
    reason = f"{what} {_ago(age)} ago, expected every {_ago(row.interval_s)}"
    if age > limit:
        reason += f"; no heartbeat for more than {_ago(limit)} (process {row.pid} on {row.host})"
        return Liveness("stale", reason, beat, age, row.interval_s, limit, run)
    return Liveness("running", reason, beat, age, row.interval_s, limit, run)


def _run_dict(row: RunRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "venue": row.venue,
        "pid": row.pid,
        "host": row.host,
        "started_at": _iso(_utc(row.started_at)),
        "ended_at": _iso(_utc(row.ended_at)) if row.ended_at is not None else None,
        "end_reason": row.end_reason,
        "interval_s": row.interval_s,
        "planned_cycles": row.planned_cycles,
        "cycles": row.cycles,
        "last_cycle": row.last_cycle,
        "last_cycle_seconds": row.last_cycle_seconds,
    }


def _ago(seconds: float) -> str:
    """``12 s``, ``4 min 5 s``, ``3 h 20 min``, ``2 d 4 h``."""
    whole = round(seconds)
    if whole < 120:
        return f"{seconds:.3g} s" if seconds < 10 else f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 120:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the journal stores UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
