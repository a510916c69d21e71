"""Reading and writing the data folder's CSV files (gzip or plain), and freqtrade's JSON candles.

Every reader validates what it returns (see :func:`trimtab.feed.table.validate_table`) and names the file
and line of the first problem. Writers are atomic: a temporary file in the same folder, then a rename.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from trimtab.errors import BadInputError
from trimtab.feed.layout import CANDLE_COLUMNS, SCHEMAS, ColumnRule
from trimtab.feed.table import Table, format_ns, validate_table
from trimtab.loaders.files import read_regular_file

_UTC_SUFFIX = re.compile(r"(?:Z|[+-]00:?00)$")
_OFFSET = re.compile(r"[T ][^\n]*[+-]\d\d(?::?\d\d)?$", re.MULTILINE)
MAX_DATA_BYTES = 2 * 1024 * 1024 * 1024
"""The largest data file read (years of one-minute candles fit many times over)."""
_MS_EPOCH_FLOOR = 10**11  # integers at least this large are milliseconds (from 1973 on), smaller ones seconds


def read_table(path: Path, kind: str, raw: bytes | None = None) -> Table:
    """Parse and validate one CSV file of the given kind (``raw``: its bytes, when already read).

    Raises
    ------
    BadInputError
        If the file cannot be read, is not gzip/UTF-8, has another header, a malformed row, a timestamp
        that does not increase, or a value its column forbids (naming the file and line).
    """
    source = path.name
    if raw is None:
        raw = read_regular_file(path, MAX_DATA_BYTES)
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise BadInputError(source, "", f"is not a valid gzip file ({exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError(source, "", "is not UTF-8 text") from None
    return parse_csv_text(text, SCHEMAS[kind], source)


def parse_csv_text(text: str, rules: tuple[ColumnRule, ...], source: str) -> Table:
    """Parse ``timestamp,<columns>`` CSV text into a validated :class:`Table`."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise BadInputError(source, "", "is empty")
    expected = ["timestamp", *(rule.name for rule in rules)]
    header = [cell.strip() for cell in lines[0].split(",")]
    if header != expected:
        raise BadInputError(source, "line 1", f"header must be {','.join(expected)}, not {lines[0].strip()}")
    rows = [line.split(",") for line in lines[1:]]
    width = len(expected)
    for index, row in enumerate(rows):
        if len(row) != width:
            raise BadInputError(source, f"line {index + 2}", f"has {len(row)} fields, expected {width}")
    if not rows:
        return _empty(rules)
    cells = list(zip(*rows, strict=True))
    times = parse_timestamps(cells[0], source, first_line=2)
    columns = {rule.name: _floats(cells[i + 1], rule.name, source) for i, rule in enumerate(rules)}
    table = Table(times, columns)
    validate_table(table, rules, source)
    return table


def parse_timestamps(values: Sequence[str], source: str, first_line: int) -> np.ndarray:
    """ISO-8601 UTC timestamps (``Z``, ``+00:00`` or no offset) or integer epoch ms/s, as int64 ns.

    A timestamp with another offset (``+02:00``) is refused, naming its line: bars stamped in local time
    close at other instants than UTC bars, and converting them would put them off the grid unnoticed.
    """
    stripped = [_UTC_SUFFIX.sub("", value.strip()) for value in values]
    joined = "\n".join(stripped)
    offset = _OFFSET.search(joined)  # one pass over the column, not one search per row
    if offset is not None:
        index = joined.count("\n", 0, offset.start())
        raise BadInputError(
            source,
            f"line {index + first_line}",
            f"timestamp {values[index].strip()!r} is not in UTC; give it with Z (or +00:00)",
        )
    if stripped and stripped[0].isdigit():
        try:
            numbers = np.array([int(value) for value in stripped], dtype=np.int64)
        except ValueError:
            pass
        else:
            scale = np.where(numbers >= _MS_EPOCH_FLOOR, 1_000_000, 1_000_000_000)
            return numbers * scale
    try:
        return np.array(stripped, dtype="datetime64[ns]").astype(np.int64)
    except ValueError:
        for index, value in enumerate(stripped):
            try:
                np.datetime64(value, "ns")
            except ValueError:
                raise BadInputError(
                    source, f"line {index + first_line}", f"timestamp {values[index].strip()!r} is not ISO-8601 UTC"
                ) from None
        raise


def _floats(values: Sequence[str], name: str, source: str) -> np.ndarray:
    try:
        return np.array(values, dtype=np.float64)
    except ValueError:
        for index, value in enumerate(values):
            try:
                float(value)
            except ValueError:
                raise BadInputError(source, f"line {index + 2}", f"{name} {value.strip()!r} is not a number") from None
        raise


def _empty(rules: tuple[ColumnRule, ...]) -> Table:
    return Table(np.empty(0, dtype=np.int64), {rule.name: np.empty(0, dtype=np.float64) for rule in rules})


def parse_freqtrade_json(text: str, source: str, kind: str = "spot") -> Table:
    """Candles in freqtrade's JSON layout ``[[ms, open, high, low, close, volume], ...]``.

    ``kind`` says what the candles hold: ``spot``/``perp`` keep every column, ``mark`` drops the volume,
    and ``funding`` takes the rate from the open column (where freqtrade keeps it).

    Raises
    ------
    BadInputError
        If the text is not such a list, or a row is malformed (naming its index as ``row N``).
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(source, "", f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(document, list):
        raise BadInputError(source, "", "must be a list of [ms, open, high, low, close, volume] rows")
    times = np.empty(len(document), dtype=np.int64)
    values = np.empty((len(document), len(CANDLE_COLUMNS)), dtype=np.float64)
    for index, row in enumerate(document):
        ok = isinstance(row, list) and len(row) == 6
        ok = ok and all(isinstance(cell, int | float) and not isinstance(cell, bool) for cell in row)
        if not ok:
            raise BadInputError(source, f"row {index}", "must be [ms, open, high, low, close, volume] numbers")
        times[index] = int(row[0]) * 1_000_000
        values[index] = row[1:]
    candles = {name: values[:, i].copy() for i, name in enumerate(CANDLE_COLUMNS)}
    if kind == "funding":
        candles["funding_rate"] = candles["open"]
    rules = SCHEMAS[kind]
    table = Table(times, {rule.name: candles[rule.name] for rule in rules})
    # JSON rows have no header, so row 0 is "line 1" in the messages
    validate_table(table, rules, source, first_line=1)
    return table


def format_number(value: float) -> str:
    """Shortest round-trip decimal, never scientific notation (the data set's convention)."""
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = np.format_float_positional(value, trim="-")
    return text


def table_to_csv(table: Table, rules: tuple[ColumnRule, ...]) -> str:
    """The CSV text of a table, header included."""
    names = [rule.name for rule in rules]
    out = [",".join(["timestamp", *names])]
    columns = [table.columns[name] for name in names]
    for row, ns in enumerate(table.times):
        cells = [format_ns(int(ns))] + [format_number(float(column[row])) for column in columns]
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def write_table(path: Path, table: Table, rules: tuple[ColumnRule, ...]) -> None:
    """Write a table atomically; gzip when the name ends in ``.gz``."""
    data = table_to_csv(table, rules).encode("utf-8")
    if path.name.endswith(".gz"):
        # mtime=0 keeps the bytes reproducible for identical content
        data = gzip.compress(data, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
