"""A parsed series: UTC timestamps and float columns, validated once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from trimtab.errors import BadInputError
from trimtab.feed.layout import ColumnRule
from trimtab.limits import MAX_AMOUNT, MAX_PRICE, MIN_PRICE

NS_PER_SECOND = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, eq=False)
class Table:
    """One series: ``times`` (int64 ns since the epoch, UTC, strictly increasing) and named float64 columns."""

    times: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.times.shape[0])

    def column(self, name: str) -> np.ndarray:
        return self.columns[name]

    def between(self, first_ns: int, last_ns: int) -> Table:
        """The rows whose time lies in ``[first_ns, last_ns]``."""
        lo = int(np.searchsorted(self.times, first_ns, side="left"))
        hi = int(np.searchsorted(self.times, last_ns, side="right"))
        return Table(self.times[lo:hi], {name: values[lo:hi] for name, values in self.columns.items()})


def validate_table(table: Table, rules: tuple[ColumnRule, ...], source: str, first_line: int = 2) -> None:
    """Check order and values; ``first_line`` is the file line of row 0 (2 after a header).

    Raises
    ------
    BadInputError
        Naming the file and the line of the first row that breaks a rule.
    """
    times = table.times
    if times.shape[0] > 1:
        steps = np.diff(times)
        bad = np.flatnonzero(steps <= 0)
        if bad.size:
            row = int(bad[0]) + 1
            what = "repeats" if steps[bad[0]] == 0 else "goes back before"
            raise BadInputError(
                source, f"line {row + first_line}", f"timestamp {format_ns(int(times[row]))} {what} the previous row"
            )
    for rule in rules:
        values = table.columns[rule.name]
        if rule.rule == "positive":
            broken = ~(values > 0) | ~np.isfinite(values)
            wanted = "a positive number"
        elif rule.rule == "non_negative":
            broken = ~(values >= 0) | ~np.isfinite(values)
            wanted = "zero or more"
        else:
            broken = ~np.isfinite(values)
            wanted = "a finite number"
        _refuse_first(broken, f"{rule.name} must be {wanted}", values, source, first_line)
        # A finite number past the range every input shares (1e308) is a typing mistake that would overflow.
        low, high = (MIN_PRICE, MAX_PRICE) if rule.rule == "positive" else (-MAX_AMOUNT, MAX_AMOUNT)
        outside = (
            (np.abs(values) < low) | (np.abs(values) > high)
            if rule.rule == "positive"
            else ~((values >= low) & (values <= high))
        )
        _refuse_first(outside, f"{rule.name} must be from {low:g} to {high:g}", values, source, first_line)


def _refuse_first(broken: np.ndarray, message: str, values: np.ndarray, source: str, first_line: int) -> None:
    where = np.flatnonzero(broken)
    if where.size:
        row = int(where[0])
        raise BadInputError(source, f"line {row + first_line}", f"{message}, not {float(values[row])!r}")


def format_ns(ns: int) -> str:
    """ISO-8601 UTC with ``Z``, e.g. ``2021-11-10T00:00:00Z``."""
    moment = datetime.fromtimestamp(ns // NS_PER_SECOND, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_ns(moment: datetime) -> int:
    """A datetime as int64 ns since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000
