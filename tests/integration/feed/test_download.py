"""``trimtab data download`` drives the real ccxt client against a local server that answers like Binance."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trimtab.errors import BadInputError
from trimtab.feed.csvio import read_table
from trimtab.feed.download import Downloader, make_exchange

from .conftest import DAY_MS, HOUR_MS, START_MS, FakeBinance


def _downloader(fake: FakeBinance, folder: Path, limit: int = 7) -> Downloader:
    exchange = make_exchange("binance", api_url=fake.url)
    return Downloader(exchange, folder, limit=limit, sleep=lambda _: None, now_ms=lambda: fake.now_ms)


def _klines_starts(fake: FakeBinance, path: str) -> list[int]:
    return [int(params["startTime"]) for route, params in fake.requests if route == path]


def test_spot_candles_page_through_history_and_the_open_candle_is_dropped(
    fake_binance: FakeBinance, tmp_path: Path
) -> None:
    fake_binance.spot_days = [START_MS + day * DAY_MS for day in range(30)]
    # "now" is in the middle of day 29: its candle is still open and must not be written
    fake_binance.now_ms = START_MS + 29 * DAY_MS + 12 * HOUR_MS

    outcomes = _downloader(fake_binance, tmp_path).download(["BTC/USDT"], "1d", since_ms=START_MS)

    table = read_table(tmp_path / "spot_BTC-USDT_1d.csv.gz", "spot")
    assert len(table) == 29
    assert table.times[0] == START_MS * 1_000_000
    np.testing.assert_allclose(table.column("close")[:3], [40_000.0, 40_100.0, 40_200.0])
    assert table.column("volume")[0] == 12.5
    # 7 rows a page: 0, 7, 14, 21, 28 (the last page holds the open candle and stops the paging)
    assert _klines_starts(fake_binance, "/api/v3/klines") == [START_MS + d * DAY_MS for d in (0, 7, 14, 21, 28)]
    assert outcomes[0].fetched == 29
    assert outcomes[0].gaps == []


def test_a_second_download_resumes_after_the_last_row_on_disk(fake_binance: FakeBinance, tmp_path: Path) -> None:
    fake_binance.spot_days = [START_MS + day * DAY_MS for day in range(10)]
    fake_binance.now_ms = START_MS + 10 * DAY_MS
    _downloader(fake_binance, tmp_path).download(["BTC/USDT"], "1d", since_ms=START_MS)
    fake_binance.requests.clear()

    fake_binance.spot_days = [START_MS + day * DAY_MS for day in range(15)]
    fake_binance.now_ms = START_MS + 15 * DAY_MS
    outcomes = _downloader(fake_binance, tmp_path).download(["BTC/USDT"], "1d", since_ms=None)

    assert _klines_starts(fake_binance, "/api/v3/klines")[0] == START_MS + 10 * DAY_MS
    assert outcomes[0].fetched == 5
    table = read_table(tmp_path / "spot_BTC-USDT_1d.csv.gz", "spot")
    assert len(table) == 15
    assert np.all(np.diff(table.times) == DAY_MS * 1_000_000)


def test_a_gap_at_the_exchange_is_reported_and_not_filled(fake_binance: FakeBinance, tmp_path: Path) -> None:
    fake_binance.spot_days = [START_MS + day * DAY_MS for day in range(20) if day not in (8, 9, 10)]
    fake_binance.now_ms = START_MS + 20 * DAY_MS

    outcomes = _downloader(fake_binance, tmp_path).download(["BTC/USDT"], "1d", since_ms=START_MS)

    assert len(read_table(tmp_path / "spot_BTC-USDT_1d.csv.gz", "spot")) == 17
    assert outcomes[0].gaps == ["BTC/USDT 1d: 3 missing bars 2024-01-09T00:00:00Z -> 2024-01-11T00:00:00Z"]


def test_a_perpetual_brings_its_funding_settlements(fake_binance: FakeBinance, tmp_path: Path) -> None:
    fake_binance.perp_days = [START_MS + day * DAY_MS for day in range(5)]
    fake_binance.funding_times = [START_MS + i * 8 * HOUR_MS for i in range(15)]
    fake_binance.now_ms = START_MS + 5 * DAY_MS

    outcomes = _downloader(fake_binance, tmp_path, limit=4).download(["BTC/USDT:USDT"], "1d", since_ms=START_MS)

    assert [outcome.file for outcome in outcomes] == ["perp_BTC-USDT_1d.csv.gz", "perp_BTC-USDT_funding_8h.csv.gz"]
    assert len(read_table(tmp_path / "perp_BTC-USDT_1d.csv.gz", "perp")) == 5
    funding = read_table(tmp_path / "perp_BTC-USDT_funding_8h.csv.gz", "funding")
    # the server stamps settlements 8 ms late; the file keeps whole seconds on the 8h grid
    assert funding.times.tolist() == [(START_MS + i * 8 * HOUR_MS) * 1_000_000 for i in range(15)]
    np.testing.assert_allclose(funding.column("funding_rate")[:2], [0.0001, 0.000101])
    assert len([route for route, _ in fake_binance.requests if route == "/fapi/v1/fundingRate"]) >= 4


def test_an_unknown_symbol_is_bad_input(fake_binance: FakeBinance, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no market DOGE/USDT"):
        _downloader(fake_binance, tmp_path).download(["DOGE/USDT"], "1d", since_ms=START_MS)


def test_a_new_series_needs_a_start(fake_binance: FakeBinance, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="--since"):
        _downloader(fake_binance, tmp_path).download(["BTC/USDT"], "1d", since_ms=None)


def test_the_download_command_writes_the_layout_and_reports_gaps(fake_binance: FakeBinance, tmp_path: Path) -> None:
    fake_binance.spot_days = [START_MS + day * DAY_MS for day in range(12) if day != 5]
    fake_binance.now_ms = START_MS + 12 * DAY_MS
    folder = tmp_path / "market"

    done = subprocess.run(
        [
            sys.executable, "-m", "trimtab", "data", "download", "--exchange", "binance", "--symbols", "BTC/USDT",
            "--timeframe", "1d", "--since", "2024-01-01T00:00:00Z", "--data", str(folder),
            "--api-url", fake_binance.url, "--format", "json",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["downloaded"][0]
    assert report["file"] == "spot_BTC-USDT_1d.csv.gz"
    assert report["gaps"] == ["BTC/USDT 1d: 1 missing bar 2024-01-06T00:00:00Z"]
    # the server's clock says day 12 has not begun, so every served candle is complete
    assert len(read_table(folder / "spot_BTC-USDT_1d.csv.gz", "spot")) == 11
