"""What a data folder holds, and bringing files into it (``trimtab data list`` and ``trimtab data import``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trimtab.errors import BadInputError
from trimtab.feed.cache import cache_folder, load_table
from trimtab.feed.csvio import MAX_DATA_BYTES, parse_freqtrade_json, read_table, write_table
from trimtab.feed.gaps import describe_gaps, find_gaps
from trimtab.feed.layout import SCHEMAS, DataFile, file_name, is_calendar_timeframe, parse_name, scan, timeframe_seconds
from trimtab.feed.table import Table, format_ns
from trimtab.loaders.files import read_regular_file


@dataclass(frozen=True, slots=True)
class FileSummary:
    """One line of ``trimtab data list``."""

    file: str
    kind: str
    asset: str
    quote: str
    timeframe: str
    rows: int
    first: str | None
    last: str | None
    gaps: int
    missing_bars: int
    size_bytes: int
    gap_list: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "asset": self.asset,
            "quote": self.quote,
            "timeframe": self.timeframe,
            "rows": self.rows,
            "first": self.first,
            "last": self.last,
            "gaps": self.gaps,
            "missing_bars": self.missing_bars,
            "size_bytes": self.size_bytes,
            "gap_list": list(self.gap_list),
        }


def summarize(data_dir: Path, use_cache: bool = True) -> list[FileSummary]:
    """Describe every data file of a folder (parsing each one, so a bad file is reported).

    Raises
    ------
    BadInputError
        If the folder is missing or a file is malformed (naming file and line).
    """
    cache_dir = cache_folder(data_dir) if use_cache else None
    return [_summary(item, load_table(item.path, item.kind, cache_dir)) for item in scan(data_dir)]


def _summary(item: DataFile, table: Table) -> FileSummary:
    gaps = [] if is_calendar_timeframe(item.timeframe) else find_gaps(table.times, timeframe_seconds(item.timeframe))
    return FileSummary(
        file=item.name,
        kind=item.kind,
        asset=item.base,
        quote=item.quote,
        timeframe=item.timeframe,
        rows=len(table),
        first=format_ns(int(table.times[0])) if len(table) else None,
        last=format_ns(int(table.times[-1])) if len(table) else None,
        gaps=len(gaps),
        missing_bars=sum(gap.missing for gap in gaps),
        size_bytes=item.path.stat().st_size,
        gap_list=tuple(describe_gaps(item.series, gaps, timeframe_seconds(item.timeframe))),
    )


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What ``import_file`` did: the target file, rows added, rows whose values were replaced, rows after."""

    file: str
    added: int
    replaced: int
    rows: int


_FREQTRADE_NAME = re.compile(
    r"^(?P<base>[A-Za-z0-9]+)_(?P<quote>[A-Za-z0-9]+)(?:_(?P<settle>[A-Za-z0-9]+))?-(?P<timeframe>\d+[mhdwM])"
    r"(?:-(?P<candle>futures|funding_rate|mark))?\.json$"
)


def import_file(source: Path, data_dir: Path, target_name: str | None = None) -> ImportOutcome:
    """Validate a CSV in the folder's layout (or a freqtrade JSON) and merge it into the data folder.

    The target is named by ``target_name`` or else by the source's own name (a layout name, or
    freqtrade's ``BTC_USDT-1d.json``, ``BTC_USDT_USDT-1h-futures.json``, ``...-8h-funding_rate.json``,
    ``...-8h-mark.json``). Rows of the source replace rows of the target at the same timestamp; the
    merged series is written atomically.

    Raises
    ------
    BadInputError
        If the source is malformed (naming file and line) or its name says nothing of what it holds.
    """
    describe_as = target_name or source.name
    is_json = source.suffix.lower() == ".json"
    item = parse_name(Path(describe_as)) if not describe_as.endswith(".json") else None
    if item is None and is_json:
        item = _freqtrade_target(describe_as)
    if item is None:
        raise BadInputError(
            source.name, "", "cannot tell what this file holds: name it like spot_BTC-USDT_1d.csv.gz or pass --as"
        )
    incoming = _read_source(source, item.kind, is_json)
    target = data_dir / file_name(item.kind, item.base, item.quote, item.timeframe)
    return merge_into(target, item.kind, incoming)


def merge_into(target: Path, kind: str, incoming: Table) -> ImportOutcome:
    """Merge rows into a data file (incoming rows win at equal timestamps) and write it atomically."""
    rules = SCHEMAS[kind]
    if target.is_file():
        existing = read_table(target, kind)
        times = np.union1d(existing.times, incoming.times)
        in_existing = np.isin(times, existing.times)
        in_incoming = np.isin(times, incoming.times)
        columns = {}
        for rule in rules:
            merged = np.empty(times.shape[0])
            merged[in_existing] = existing.column(rule.name)
            merged[in_incoming] = incoming.column(rule.name)
            columns[rule.name] = merged
        overlap = np.isin(existing.times, incoming.times)
        old_rows = np.flatnonzero(overlap)
        new_rows = np.searchsorted(incoming.times, existing.times[overlap])
        changed = np.zeros(old_rows.shape[0], dtype=bool)
        for rule in rules:
            changed |= existing.column(rule.name)[old_rows] != incoming.column(rule.name)[new_rows]
        merged_table = Table(times, columns)
        added, replaced = int(times.shape[0] - len(existing)), int(changed.sum())
    else:
        merged_table, added, replaced = incoming, len(incoming), 0
    write_table(target, merged_table, rules)
    return ImportOutcome(target.name, added, replaced, len(merged_table))


def _freqtrade_target(name: str) -> DataFile | None:
    match = _FREQTRADE_NAME.match(name)
    if match is None:
        return None
    kinds = {None: "spot", "futures": "perp", "funding_rate": "funding", "mark": "mark"}
    kind = kinds[match["candle"]]
    return DataFile(Path(name), kind, match["base"].upper(), match["quote"].upper(), match["timeframe"])


def _read_source(source: Path, kind: str, is_json: bool) -> Table:
    if not is_json:
        return read_table(source, kind)
    try:
        text = read_regular_file(source, MAX_DATA_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError(source.name, "", "is not UTF-8 text") from None
    return parse_freqtrade_json(text, source.name, kind)
