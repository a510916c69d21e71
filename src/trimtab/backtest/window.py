"""The window a backtest really covers, and why: which asset's history limits it.

A backtest replays only the bars that every asset of the policy shares, so one asset with a short history
(a stablecoin listed late, a coin delisted early) cuts the whole run. :func:`backtest_window` says which
bars are used, which asset sets the first and the last one, and how much of the span the data could
otherwise cover is lost; :func:`common_window` is the span several policies share, for ``compare``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from trimtab.errors import BadInputError
from trimtab.feed.history import MarketHistory
from trimtab.feed.table import NS_PER_SECOND, format_ns, to_ns

TRUNCATION_WARNING = 0.10
"""A window that loses more than this fraction of the span the data could cover is a warning."""


@dataclass(frozen=True)
class BacktestWindow:
    """The bars a backtest uses (open times, int64 ns) against the span it could have covered.

    ``reference_first``/``reference_last`` are the widest span of the policy's assets (the earliest first
    bar to the latest last bar), clipped to ``--start``/``--end``; ``starts_with``/``ends_with`` name the
    asset whose history starts last / ends first when it cuts that span (None when it does not).
    """

    first: int
    last: int
    bars: int
    timeframe: str
    reference_first: int
    reference_last: int
    starts_with: str | None
    ends_with: str | None
    coverage: Mapping[str, tuple[int, int]]

    @property
    def truncation(self) -> float:
        """The fraction of the reference span the window does not cover (0: nothing lost)."""
        reference = self.reference_last - self.reference_first
        if reference <= 0:
            return 0.0
        return max(0.0, 1.0 - (self.last - self.first) / reference)

    def reasons(self) -> list[str]:
        """Why the window is shorter than the reference span, one phrase per limiting asset."""
        out = []
        if self.starts_with is not None:
            out.append(f"{self.starts_with}'s history starts {_day(self.coverage[self.starts_with][0])}")
        if self.ends_with is not None:
            out.append(f"{self.ends_with}'s history ends {_day(self.coverage[self.ends_with][1])}")
        return out

    def describe(self) -> str:
        """One line: ``438 1d bars, limited by: SOL's history starts 2020-08-11; USDC's history ends 2021-10-22``."""
        text = f"{self.bars:,} {self.timeframe} bars"
        reasons = self.reasons()
        if reasons:
            return f"{text}, limited by: {'; '.join(reasons)}"
        return f"{text}, every bar the policy's assets share in the window asked for"

    def warning(self, threshold: float = TRUNCATION_WARNING) -> str | None:
        """A sentence when the window loses more than ``threshold`` of the reference span, else None."""
        if self.truncation <= threshold:
            return None
        return (
            f"the backtest covers {_day(self.first)} to {_day(self.last)}, {self.truncation:.0%} less than the "
            f"{_day(self.reference_first)} to {_day(self.reference_last)} the data of its other assets would allow, "
            "because " + ("; ".join(self.reasons()) or "the assets' bars do not overlap there")
        )

    def to_json(self) -> dict[str, Any]:
        """The window for ``--format json``."""
        return {
            "start": format_ns(self.first),
            "end": format_ns(self.last),
            "bars": self.bars,
            "timeframe": self.timeframe,
            "possible_start": format_ns(self.reference_first),
            "possible_end": format_ns(self.reference_last),
            "truncation": self.truncation,
            "limited_by": {"start": self.starts_with, "end": self.ends_with},
            "reason": "; ".join(self.reasons()),
        }


def backtest_window(history: MarketHistory, start: datetime | None, end: datetime | None) -> BacktestWindow:
    """The bars of ``history`` between ``start`` and ``end`` (inclusive open times), and what limits them.

    Raises
    ------
    BadInputError
        When no shared bar lies in the window, naming the asset whose history is outside it.
    """
    low = to_ns(start) if start is not None else None
    high = to_ns(end) if end is not None else None
    coverage = dict(history.coverage)
    for asset, (first, last) in coverage.items():
        if low is not None and last < low:
            raise BadInputError(
                "--start", "", f"{asset}'s {history.timeframe} history ends {_day(last)}, before --start {_day(low)}"
            )
        if high is not None and first > high:
            raise BadInputError(
                "--end", "", f"{asset}'s {history.timeframe} history starts {_day(first)}, after --end {_day(high)}"
            )
    opens = history.timestamps
    mask = np.ones(opens.shape[0], dtype=bool)
    if low is not None:
        mask &= opens >= low
    if high is not None:
        mask &= opens <= high
    selected = opens[mask]
    if selected.shape[0] == 0:
        spans = "; ".join(f"{a} {_day(f)} to {_day(t)}" for a, (f, t) in coverage.items())
        raise BadInputError("--start", "", f"the assets share no {history.timeframe} bar in the window ({spans})")
    first, last = int(selected[0]), int(selected[-1])
    if coverage:
        earliest = min(f for f, _ in coverage.values())
        latest = max(t for _, t in coverage.values())
    else:
        earliest, latest = first, last
    reference_first = max(earliest, low) if low is not None else earliest
    reference_last = min(latest, high) if high is not None else latest
    bar = history.bar_seconds * NS_PER_SECOND
    late = max(coverage, key=lambda a: coverage[a][0]) if coverage else None
    early = min(coverage, key=lambda a: coverage[a][1]) if coverage else None
    return BacktestWindow(
        first=first,
        last=last,
        bars=int(selected.shape[0]),
        timeframe=history.timeframe,
        reference_first=reference_first,
        reference_last=reference_last,
        starts_with=late if late is not None and coverage[late][0] > reference_first + bar // 2 else None,
        ends_with=early if early is not None and coverage[early][1] < reference_last - bar // 2 else None,
        coverage=coverage,
    )


def common_window(windows: Mapping[str, BacktestWindow]) -> tuple[datetime, datetime]:
    """The span every window shares (first and last bar open times), for running several policies alike.

    Raises
    ------
    BadInputError
        When the windows share no time, naming each policy's window and what limits it.
    """
    first = max(w.first for w in windows.values())
    last = min(w.last for w in windows.values())
    if first > last:
        detail = "; ".join(f"{name}: {window.describe()}" for name, window in windows.items())
        raise BadInputError("--policy", "", f"the policies share no window, so they cannot be compared ({detail})")
    return _moment(first), _moment(last)


def limiting(windows: Mapping[str, BacktestWindow]) -> str:
    """Which policy (and asset) sets the common window's start and end, as a sentence."""
    late = max(windows, key=lambda name: windows[name].first)
    early = min(windows, key=lambda name: windows[name].last)
    parts = []
    for name, reasons in ((late, windows[late].reasons()), (early, windows[early].reasons())):
        text = f"{name}" + (f" ({'; '.join(reasons)})" if reasons else "")
        if text not in parts:
            parts.append(text)
    return ", ".join(parts)


def _moment(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // NS_PER_SECOND, tz=UTC)


def _day(ns: int) -> str:
    return format_ns(ns)[:10]
