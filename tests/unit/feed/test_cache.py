"""The columnar cache: a second load maps the cached array, any edit of the file is parsed again (same size and
modification time included), a read-only or corrupt cache is skipped."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from trimtab.errors import BadInputError
from trimtab.feed import cache as cache_module
from trimtab.feed import load_history
from trimtab.feed.cache import cache_folder, load_table

from .conftest import CANDLE_HEADER, DAY, T0, DataFolder, candle_rows


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = cache_module.read_table

    def counting(path: Path, kind: str, raw: bytes | None = None):  # type: ignore[no-untyped-def]
        calls.append(path)
        return real(path, kind, raw)

    monkeypatch.setattr(cache_module, "read_table", counting)
    return calls


def test_a_second_load_hits_the_cache(data_folder: DataFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    data_folder.spot("BTC", "1d", T0, [1.0, 2.0, 3.0])
    parses = _count_parses(monkeypatch)

    first = load_history(data_folder.root, ["BTC"])
    second = load_history(data_folder.root, ["BTC"])

    assert len(parses) == 1
    np.testing.assert_array_equal(first.close, second.close)
    np.testing.assert_array_equal(first.timestamps, second.timestamps)
    assert len(list(cache_folder(data_folder.root).glob("*.npy"))) == 1


def test_a_changed_file_is_parsed_again(data_folder: DataFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_folder.spot("BTC", "1d", T0, [1.0, 2.0, 3.0])
    parses = _count_parses(monkeypatch)
    load_history(data_folder.root, ["BTC"])

    data_folder.spot("BTC", "1d", T0, [5.0, 6.0, 7.0, 8.0])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    history = load_history(data_folder.root, ["BTC"])

    assert len(parses) == 2
    np.testing.assert_allclose(history.close[:, 0], [5.0, 6.0, 7.0, 8.0])


def test_a_same_size_edit_with_the_old_mtime_kept_is_parsed_again(
    data_folder: DataFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "spot_BTC-USDT_1d.csv"
    path = data_folder.raw(name, "\n".join([CANDLE_HEADER, *candle_rows(T0, DAY, [1.0, 2.0, 3.0])]) + "\n")
    before = path.stat()
    parses = _count_parses(monkeypatch)
    first = load_history(data_folder.root, ["BTC"])

    # the same number of bytes, one price changed, and the modification time put back as it was
    data_folder.raw(name, "\n".join([CANDLE_HEADER, *candle_rows(T0, DAY, [1.0, 9.0, 3.0])]) + "\n")
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    second = load_history(data_folder.root, ["BTC"])

    assert len(parses) == 2
    np.testing.assert_allclose(first.close[:, 0], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(second.close[:, 0], [1.0, 9.0, 3.0])
    assert len(list(cache_folder(data_folder.root).glob("*.npy"))) == 1  # the stale copy is gone


def test_a_cached_table_is_memory_mapped_and_holds_every_column(data_folder: DataFolder) -> None:
    path = data_folder.spot("BTC", "1d", T0, [1.0, 2.0, 3.0])
    cache_dir = cache_folder(data_folder.root)
    parsed = load_table(path, "spot", cache_dir)
    mapped = load_table(path, "spot", cache_dir)

    assert isinstance(mapped.column("close").base, np.memmap) or isinstance(mapped.column("close"), np.memmap)
    np.testing.assert_array_equal(mapped.times, parsed.times)
    assert set(mapped.columns) == set(parsed.columns)
    for name in parsed.columns:
        np.testing.assert_array_equal(mapped.column(name), parsed.column(name))


def test_the_cache_defaults_to_a_hidden_folder_in_the_data_folder(
    data_folder: DataFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRIMTAB_CACHE_DIR")
    data_folder.spot("BTC", "1d", T0, [1.0, 2.0])

    load_history(data_folder.root, ["BTC"])

    assert cache_folder(data_folder.root) == data_folder.root / ".cache"
    assert len(list((data_folder.root / ".cache").glob("*.npy"))) == 1


def test_an_unwritable_cache_is_skipped_silently(data_folder: DataFolder, tmp_path: Path) -> None:
    path = data_folder.spot("BTC", "1d", T0, [1.0, 2.0])
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")

    table = load_table(path, "spot", blocker / "cache")

    np.testing.assert_allclose(table.column("close"), [1.0, 2.0])


def test_a_corrupt_cached_copy_is_ignored(data_folder: DataFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    data_folder.spot("BTC", "1d", T0, [1.0, 2.0])
    load_history(data_folder.root, ["BTC"])
    for cached in cache_folder(data_folder.root).glob("*.npy"):
        cached.write_bytes(b"not an array")

    history = load_history(data_folder.root, ["BTC"])

    np.testing.assert_allclose(history.close[:, 0], [1.0, 2.0])


def test_a_fifo_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "spot_BTC-USDT_1d.csv"
    os.mkfifo(fifo)
    with pytest.raises(BadInputError, match="is not a regular file"):
        load_table(fifo, "candles", tmp_path / ".cache")
