"""A Parquet cache of parsed CSV files, so repeated runs do not parse text again.

Each cached table sits in ``<cache>/<file name>-<path hash>.parquet`` and records the source's size and
modification time (ns) in its schema metadata; a cached copy whose key differs is ignored and rewritten.
The cache folder is ``<data folder>/.cache/`` unless ``TRIMTAB_CACHE_DIR`` names another. A folder that
cannot be written is skipped silently: the cache saves time, it never decides an outcome.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trimtab.feed.csvio import read_table
from trimtab.feed.table import Table

CACHE_ENV = "TRIMTAB_CACHE_DIR"
_KEY = b"trimtab.source"
_FORMAT = "1"  # bump when parsing changes what a cached table holds


def cache_folder(data_dir: Path) -> Path:
    """Where the cache of a data folder lives (``TRIMTAB_CACHE_DIR`` wins)."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else data_dir / ".cache"


def source_key(path: Path) -> str:
    """What identifies one version of a source file: format, size and modification time in ns."""
    stat = path.stat()
    return f"{_FORMAT}:{stat.st_size}:{stat.st_mtime_ns}"


def cached_path(path: Path, cache_dir: Path) -> Path:
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8"), usedforsecurity=False).hexdigest()[:10]
    return cache_dir / f"{path.name}-{digest}.parquet"


def load_table(path: Path, kind: str, cache_dir: Path | None) -> Table:
    """Read a data file through the cache (``cache_dir=None``: no cache).

    Raises
    ------
    BadInputError
        As :func:`trimtab.feed.csvio.read_table` when the CSV has to be parsed.
    """
    if cache_dir is None:
        return read_table(path, kind)
    key = source_key(path)
    target = cached_path(path, cache_dir)
    cached = _read_cached(target, key)
    if cached is not None:
        return cached
    table = read_table(path, kind)
    _write_cached(target, key, table)
    return table


def _read_cached(target: Path, key: str) -> Table | None:
    try:
        if not target.is_file():
            return None
        if pq.read_schema(target).metadata.get(_KEY) != key.encode("utf-8"):
            return None
        arrow = pq.read_table(target)
    except (OSError, pa.ArrowException, AttributeError):
        # a truncated or foreign file in the cache is not an error: parse the CSV again
        return None
    times = np.ascontiguousarray(arrow.column("timestamp").to_numpy(), dtype=np.int64)
    columns = {
        name: np.ascontiguousarray(arrow.column(name).to_numpy(), dtype=np.float64)
        for name in arrow.column_names
        if name != "timestamp"
    }
    return Table(times, columns)


def _write_cached(target: Path, key: str, table: Table) -> None:
    arrays = {"timestamp": pa.array(table.times, type=pa.int64())}
    arrays.update({name: pa.array(values, type=pa.float64()) for name, values in table.columns.items()})
    arrow = pa.table(arrays).replace_schema_metadata({_KEY: key.encode("utf-8")})
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError:
        return
    try:
        os.close(handle)
        pq.write_table(arrow, temporary, compression="zstd")
        os.replace(temporary, target)
    except (OSError, pa.ArrowException):
        Path(temporary).unlink(missing_ok=True)
