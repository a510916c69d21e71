"""A columnar cache of parsed CSV files: one memory-mapped numpy array per file, keyed on its content.

Each parsed file is kept as ``<cache>/<file name>-<path hash>-<content hash>.npy``: an array of shape
(1 + columns, rows) whose first row holds the timestamps (int64 bits) and each further row one column
of the file's kind (:data:`trimtab.feed.layout.SCHEMAS`). Loading it maps the file (``mmap_mode="r"``)
and reads nothing else: a column's pages are read from disk only when something looks at them, so a
backtest that needs the closes never reads the highs, lows or volumes.

The content hash is CRC-32 and Adler-32 of the source's bytes with its length (any edit changes it,
whatever happens to the file's size or modification time); it costs about 1 ms per MB. A copy keyed on
older content is removed when the new one is written. The cache folder is ``<data folder>/.cache/``
unless ``TRIMTAB_CACHE_DIR`` names another. A folder that cannot be written is skipped silently: the
cache saves time, it never decides an outcome.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from trimtab.feed.csvio import MAX_DATA_BYTES, read_table
from trimtab.feed.layout import SCHEMAS
from trimtab.feed.table import Table
from trimtab.loaders.files import read_regular_file

CACHE_ENV = "TRIMTAB_CACHE_DIR"
_FORMAT = "2"  # bump when parsing changes what a cached table holds
SUFFIX = ".npy"


def cache_folder(data_dir: Path) -> Path:
    """Where the cache of a data folder lives (``TRIMTAB_CACHE_DIR`` wins)."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else data_dir / ".cache"


def content_key(data: bytes) -> str:
    """What identifies one version of a source file: the cache format, its length and two checksums."""
    return f"{_FORMAT}{len(data):x}{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def cache_prefix(path: Path) -> str:
    """The start of the cached copies' names for a source file (its name and a hash of its full path)."""
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8"), usedforsecurity=False).hexdigest()[:10]
    return f"{path.name}-{digest}-"


def cached_path(path: Path, cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{cache_prefix(path)}{key}{SUFFIX}"


def load_table(path: Path, kind: str, cache_dir: Path | None) -> Table:
    """Read a data file through the cache (``cache_dir=None``: no cache).

    Raises
    ------
    BadInputError
        If the file is not a regular file or cannot be read (checked before anything is read, so a FIFO
        never blocks), or as :func:`trimtab.feed.csvio.read_table` when the CSV has to be parsed.
    """
    if cache_dir is None:
        return read_table(path, kind)
    raw = read_regular_file(path, MAX_DATA_BYTES)  # a FIFO or a device is refused here, never read
    target = cached_path(path, cache_dir, content_key(raw))
    cached = _read_cached(target, kind)
    if cached is not None:
        return cached
    table = read_table(path, kind, raw)
    _write_cached(target, path, cache_dir, kind, table)
    return table


def _read_cached(target: Path, kind: str) -> Table | None:
    names = [rule.name for rule in SCHEMAS[kind]]
    try:
        stored = np.load(target, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        # absent, truncated or foreign: not an error, the CSV is parsed again
        return None
    if stored.ndim != 2 or stored.shape[0] != len(names) + 1 or stored.dtype != np.float64:
        return None
    times = stored[0].view(np.int64)
    return Table(times, {name: stored[index + 1] for index, name in enumerate(names)})


def _write_cached(target: Path, source: Path, cache_dir: Path, kind: str, table: Table) -> None:
    names = [rule.name for rule in SCHEMAS[kind]]
    stored = np.empty((len(names) + 1, len(table)), dtype=np.float64)
    stored[0] = np.ascontiguousarray(table.times, dtype=np.int64).view(np.float64)
    for index, name in enumerate(names):
        stored[index + 1] = table.column(name)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=cache_dir)
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as stream:
            np.save(stream, stored, allow_pickle=False)
        os.replace(temporary, target)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        return
    for older in cache_dir.glob(f"{cache_prefix(source)}*{SUFFIX}"):
        if older != target:
            older.unlink(missing_ok=True)
