"""Finding missing bars. Gaps are reported, never filled: a filled bar would be a price nobody traded at."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trimtab.feed.table import NS_PER_SECOND, format_ns


@dataclass(frozen=True, slots=True)
class Gap:
    """``missing`` bars absent between the bar at ``after_ns`` and the bar at ``before_ns``."""

    after_ns: int
    before_ns: int
    missing: int


def find_gaps(times: np.ndarray, step_seconds: int) -> list[Gap]:
    """Every run of missing bars in a strictly increasing series on a ``step_seconds`` grid."""
    if times.shape[0] < 2:
        return []
    step = step_seconds * NS_PER_SECOND
    deltas = np.diff(times)
    where = np.flatnonzero(deltas > step)
    # a delta of k steps leaves k - 1 bars out; an off-grid delta counts the whole steps that fit inside it
    return [Gap(int(times[i]), int(times[i + 1]), int((deltas[i] - 1) // step)) for i in where]


def describe_gaps(label: str, gaps: list[Gap], step_seconds: int) -> list[str]:
    """Human-readable reports: ``BTC 1h: 3 missing bars 2019-05-14T23:00:00Z -> 2019-05-15T01:00:00Z``."""
    step = step_seconds * NS_PER_SECOND
    lines = []
    for gap in gaps:
        first = gap.after_ns + step
        last = gap.before_ns - step
        noun = "bar" if gap.missing == 1 else "bars"
        span = format_ns(first) if gap.missing == 1 else f"{format_ns(first)} -> {format_ns(last)}"
        lines.append(f"{label}: {gap.missing} missing {noun} {span}")
    return lines
