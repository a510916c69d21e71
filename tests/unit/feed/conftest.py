"""Small data folders for the feed tests."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest


def candle_rows(start: datetime, step: timedelta, closes: Sequence[float], skip: Sequence[int] = ()) -> list[str]:
    """``timestamp,open,high,low,close,volume`` rows; the bars whose index is in ``skip`` are left out."""
    rows = []
    for index, close in enumerate(closes):
        if index in skip:
            continue
        moment = (start + index * step).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{moment},{close},{close * 1.01},{close * 0.99},{close},{10 + index}")
    return rows


def write_csv(folder: Path, name: str, header: str, rows: Sequence[str], compress: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = "\n".join([header, *rows]) + "\n"
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


CANDLE_HEADER = "timestamp,open,high,low,close,volume"
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


class DataFolder:
    """A throwaway data folder that tests fill with small series."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def spot(
        self, asset: str, timeframe: str, start: datetime, closes: Sequence[float], skip: Sequence[int] = ()
    ) -> Path:
        step = HOUR if timeframe == "1h" else DAY
        return write_csv(
            self.root, f"spot_{asset}-USDT_{timeframe}.csv.gz", CANDLE_HEADER, candle_rows(start, step, closes, skip)
        )

    def raw(self, name: str, text: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / name
        path.write_text(text)
        return path


@pytest.fixture
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataFolder:
    monkeypatch.setenv("TRIMTAB_CACHE_DIR", str(tmp_path / "cache"))
    return DataFolder(tmp_path / "market")


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every feed test caches into its own temporary folder, never next to the bundled data."""
    monkeypatch.setenv("TRIMTAB_CACHE_DIR", str(tmp_path / "cache"))
