"""The heartbeat: running, stopped or stale, with a clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trimtab.storage import Store, open_store
from trimtab.storage.heartbeat import CYCLE_BUCKETS, Heartbeat, cycle_histogram, liveness, stale_after

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'j.db'}")
    yield opened
    opened.close()


def test_stale_after_is_twice_the_interval_plus_the_larger_of_30_s_and_three_cycles() -> None:
    assert stale_after(60.0, 0.2) == 150.0  # 2 x 60 + 30
    assert stale_after(60.0, 20.0) == 180.0  # 2 x 60 + 3 x 20
    assert stale_after(0.0, None) == 30.0  # a replay: cycles back to back


def test_an_empty_journal_is_stopped_never_running(store: Store) -> None:
    alive = liveness(store, T0)
    assert alive.state == "stopped"
    assert alive.reason == "no trimtab run has written to this journal"
    assert alive.to_dict()["run"] is None


def test_a_run_is_running_while_it_beats_then_stale_then_stopped_when_it_ends(store: Store) -> None:
    clock = Clock()
    beat = Heartbeat(store, venue="paper", interval_s=60.0, planned_cycles=None, clock=clock).begin()
    assert liveness(store, clock.advance(5)).sentence() == "running: started 5 s ago, expected every 60 s"
    clock.advance(0.5)
    beat.beat(1, 0.5)
    alive = liveness(store, clock.advance(12))
    assert alive.state == "running"
    assert alive.reason == "last cycle 12 s ago, expected every 60 s"
    assert alive.age_s == 12.0
    assert alive.stale_after_s == 150.0
    assert alive.run is not None and alive.run["cycles"] == 1 and alive.run["last_cycle_seconds"] == 0.5
    # 150 s without a heartbeat is the limit: one second more is stale.
    assert liveness(store, T0 + timedelta(seconds=5.5 + 150)).state == "running"
    stale = liveness(store, T0 + timedelta(seconds=5.5 + 151))
    assert stale.state == "stale"
    assert "no heartbeat for more than 2 min 30 s" in stale.reason
    clock.now = T0 + timedelta(seconds=200)
    beat.end("stopped by SIGTERM after 1 cycle(s)")
    ended = liveness(store, T0 + timedelta(seconds=260))
    assert ended.state == "stopped"
    assert ended.reason == "the run ended 60 s ago: stopped by SIGTERM after 1 cycle(s)"


def test_the_newest_run_decides(store: Store) -> None:
    clock = Clock()
    first = Heartbeat(store, venue="paper", interval_s=60.0, planned_cycles=1, clock=clock).begin()
    first.beat(1, 0.3)
    first.end("one cycle (--once) done")
    assert liveness(store, clock.advance(1)).state == "stopped"
    Heartbeat(store, venue="paper", interval_s=60.0, planned_cycles=None, clock=clock).begin()
    assert liveness(store, clock.advance(1)).state == "running"


def test_cycle_durations_fill_the_histogram_across_runs(store: Store) -> None:
    clock = Clock()
    one = Heartbeat(store, venue="paper", interval_s=60.0, planned_cycles=None, clock=clock).begin()
    for seconds in (0.05, 0.2, 0.25, 3.0):
        one.beat(1, seconds)
    two = Heartbeat(store, venue="paper", interval_s=60.0, planned_cycles=None, clock=clock).begin()
    two.beat(1, 1000.0)
    counts, total, count = cycle_histogram(store)
    assert len(counts) == len(CYCLE_BUCKETS) + 1
    # le=0.1: 0.05; le=0.25: 0.2 and 0.25 (bounds are inclusive); le=5: 3.0; +Inf: 1000
    assert counts[CYCLE_BUCKETS.index(0.1)] == 1
    assert counts[CYCLE_BUCKETS.index(0.25)] == 2
    assert counts[CYCLE_BUCKETS.index(5.0)] == 1
    assert counts[-1] == 1
    assert sum(counts) == count == 5
    assert total == pytest.approx(1003.5)
