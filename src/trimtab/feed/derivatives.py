"""The derivatives data of a history: perpetual funding, mark prices, perpetual closes and DVOL.

:func:`trimtab.feed.history.load_history` hands :class:`~trimtab.feed.history.MarketHistory` a loader
(:func:`load_derivatives` with the folder's files) rather than the series: a spot policy on the fast
path never reads them, so its backtest reads no funding, mark, perpetual or DVOL file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trimtab.feed.cache import load_table
from trimtab.feed.gaps import describe_gaps, find_gaps
from trimtab.feed.layout import DataFile, is_calendar_timeframe, timeframe_seconds
from trimtab.feed.table import NS_PER_SECOND, Table

_DVOL_PERCENT = 100.0


DEFAULT_FUNDING_INTERVAL_HOURS = 8.0
"""The interval assumed for a series with a single settlement (Binance USD-M's usual one)."""


@dataclass(frozen=True, eq=False)
class FundingSeries:
    """Funding settlements of one perpetual: ``times`` (int64 ns UTC, sorted) and ``rates`` (per settlement).

    The stamps are the settlements that happened; nothing assumes a grid. A symbol that settles every 4 h or
    every hour (or that moved from 8 h to 4 h) pays at each of its own stamps, and the interval of a
    settlement is the time since the one before it.
    """

    times: np.ndarray
    rates: np.ndarray

    def settled_between(self, after: int, until: int) -> tuple[int, int]:
        """The index range ``[lo, hi)`` of the stamps with ``after < stamp <= until`` (int64 ns).

        A bar closing exactly on a stamp settles that stamp with the bar; the next bar starts after it.
        """
        lo = int(np.searchsorted(self.times, after, side="right"))
        hi = int(np.searchsorted(self.times, until, side="right"))
        return lo, hi

    def last_at(self, moment: int) -> int:
        """The index of the last stamp at or before ``moment`` (ns), or -1 when none is."""
        return int(np.searchsorted(self.times, moment, side="right")) - 1

    def interval_hours(self, moment: int) -> float:
        """The funding interval in force at ``moment`` (ns): the spacing of the last settlement.

        That is the last stamp at or before ``moment`` minus the stamp before it; before the second stamp,
        the spacing of the first two; with fewer than two stamps, 8 hours.
        """
        count = self.times.shape[0]
        if count < 2:
            return DEFAULT_FUNDING_INTERVAL_HOURS
        index = min(max(self.last_at(moment), 1), count - 1)
        return float(int(self.times[index]) - int(self.times[index - 1])) / (3600.0 * NS_PER_SECOND)

    def typical_spacing_seconds(self) -> int:
        """The median spacing of the stamps in seconds (0 with fewer than two stamps)."""
        if self.times.shape[0] < 2:
            return 0
        return int(np.median(np.diff(self.times))) // NS_PER_SECOND


@dataclass(frozen=True)
class Derivatives:
    """The series a history holds beside its spot bars (see :class:`~trimtab.feed.history.MarketHistory`)."""

    funding: dict[str, FundingSeries] = field(default_factory=dict)
    marks: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    perp_close: dict[str, np.ndarray] = field(default_factory=dict)
    implied_vol: tuple[np.ndarray, np.ndarray] | None = None
    gaps: list[str] = field(default_factory=list)
    """Settlements missing from the funding series."""


def load_derivatives(
    files: list[DataFile],
    assets: Sequence[str],
    quote: str,
    timeframe: str,
    timestamps: np.ndarray,
    cache_dir: Path | None,
) -> Derivatives:
    """The funding, marks, perpetual closes and DVOL of ``assets`` over the bars ``timestamps`` (open times).

    Raises
    ------
    BadInputError
        If one of those files is malformed (naming file and line).
    """
    priced = [asset for asset in dict.fromkeys(assets) if asset != quote]
    step_ns = timeframe_seconds(timeframe) * NS_PER_SECOND
    window_first, window_last = int(timestamps[0]), int(timestamps[-1]) + step_ns
    out = Derivatives()
    for asset in priced:
        funding_file = _first_of(files, "funding", asset, quote)
        if funding_file is not None:
            table = _asof_window(load_table(funding_file.path, "funding", cache_dir), window_first, window_last)
            series = FundingSeries(table.times, table.column("funding_rate"))
            out.funding[asset] = series
            # The stamps, not the file's name, say how often the symbol settles; a gap is a missing settlement.
            spacing = max(timeframe_seconds(funding_file.timeframe), series.typical_spacing_seconds())
            out.gaps.extend(
                describe_gaps(f"{asset} funding {funding_file.timeframe}", find_gaps(table.times, spacing), spacing)
            )
        mark_file = _first_of(files, "mark", asset, quote)
        if mark_file is not None:
            table = _asof_window(load_table(mark_file.path, "mark", cache_dir), window_first, window_last)
            out.marks[asset] = (table.times, table.column("open"))
        aligned = _perp_close(files, asset, quote, timeframe, timestamps, cache_dir)
        if aligned is not None:
            out.perp_close[asset] = aligned
    implied = _implied_vol(files, tuple(dict.fromkeys(assets)), window_first, window_last, cache_dir)
    return Derivatives(out.funding, out.marks, out.perp_close, implied, out.gaps)


def _first_of(files: list[DataFile], kind: str, asset: str, quote: str) -> DataFile | None:
    matches = [f for f in files if (f.kind, f.base, f.quote) == (kind, asset, quote)]
    return min(matches, key=lambda f: (timeframe_seconds(f.timeframe), not f.name.endswith(".gz"))) if matches else None


def _asof_window(table: Table, first_ns: int, last_ns: int) -> Table:
    """Rows in ``[first_ns, last_ns]`` plus the last row before ``first_ns`` (the value in force then)."""
    lo = max(int(np.searchsorted(table.times, first_ns, side="right")) - 1, 0)
    hi = int(np.searchsorted(table.times, last_ns, side="right"))
    return Table(table.times[lo:hi], {name: values[lo:hi] for name, values in table.columns.items()})


def _perp_close(
    files: list[DataFile], asset: str, quote: str, timeframe: str, timestamps: np.ndarray, cache_dir: Path | None
) -> np.ndarray | None:
    """Perpetual closes at the bars' closes; a finer perp series is sampled at its last sub-bar."""
    step = timeframe_seconds(timeframe)
    candidates = [
        f
        for f in files
        if (f.kind, f.base, f.quote) == ("perp", asset, quote)
        and not is_calendar_timeframe(f.timeframe)
        and step % timeframe_seconds(f.timeframe) == 0
    ]
    if not candidates or is_calendar_timeframe(timeframe):
        return None
    source = max(candidates, key=lambda f: (timeframe_seconds(f.timeframe), f.name.endswith(".gz")))
    table = load_table(source.path, "perp", cache_dir)
    # the sub-bar that closes when the bar closes opens one sub-step before the bar's end
    offset = (step - timeframe_seconds(source.timeframe)) * NS_PER_SECOND
    wanted = timestamps + offset
    rows = np.searchsorted(table.times, wanted)
    rows_clipped = np.minimum(rows, max(len(table) - 1, 0))
    hit = (rows < len(table)) & (table.times[rows_clipped] == wanted) if len(table) else np.zeros(len(wanted), bool)
    aligned = np.full(timestamps.shape[0], np.nan)
    if len(table):
        aligned[hit] = table.column("close")[rows_clipped[hit]]
    return aligned


def _implied_vol(
    files: list[DataFile], assets: tuple[str, ...], first_ns: int, last_ns: int, cache_dir: Path | None
) -> tuple[np.ndarray, np.ndarray] | None:
    for asset in assets:
        match = next((f for f in files if f.kind == "iv" and f.base == asset), None)
        if match is not None:
            table = _asof_window(load_table(match.path, "iv", cache_dir), first_ns, last_ns)
            return table.times, table.column("dvol") / _DVOL_PERCENT
    return None
