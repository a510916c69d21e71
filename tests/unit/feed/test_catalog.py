"""Listing a data folder and importing files into it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trimtab.errors import BadInputError
from trimtab.feed.catalog import import_file, summarize
from trimtab.feed.csvio import read_table

from .conftest import CANDLE_HEADER, DAY, HOUR, T0, DataFolder, candle_rows, write_csv

MS_T0 = 1_704_067_200_000


def test_list_reports_rows_range_and_gaps(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1h", T0, [1.0] * 10, skip=[3, 4])
    data_folder.spot("ETH", "1d", T0, [1.0, 2.0])
    data_folder.raw("notes.txt", "not data")

    summaries = {summary.file: summary for summary in summarize(data_folder.root)}

    assert set(summaries) == {"spot_BTC-USDT_1h.csv.gz", "spot_ETH-USDT_1d.csv.gz"}
    btc = summaries["spot_BTC-USDT_1h.csv.gz"]
    assert (btc.kind, btc.asset, btc.timeframe, btc.rows) == ("spot", "BTC", "1h", 8)
    assert (btc.first, btc.last) == ("2024-01-01T00:00:00Z", "2024-01-01T09:00:00Z")
    assert (btc.gaps, btc.missing_bars) == (1, 2)
    assert btc.gap_list == ("BTC 1h: 2 missing bars 2024-01-01T03:00:00Z -> 2024-01-01T04:00:00Z",)
    assert summaries["spot_ETH-USDT_1d.csv.gz"].gaps == 0


def test_list_names_a_bad_file(data_folder: DataFolder) -> None:
    data_folder.raw("spot_BTC-USDT_1d.csv", CANDLE_HEADER + "\n2024-01-01T00:00:00Z,1,1,1,-1,1\n")

    with pytest.raises(BadInputError, match=r"spot_BTC-USDT_1d\.csv: line 2: close"):
        summarize(data_folder.root)


def test_import_copies_a_new_series_and_merges_an_existing_one(data_folder: DataFolder, tmp_path: Path) -> None:
    data_folder.spot("BTC", "1d", T0, [10.0, 11.0, 12.0])
    # the import overlaps day 2 with a different close and adds days 3 and 4
    rows = candle_rows(T0 + 2 * DAY, DAY, [12.5, 13.0, 14.0])
    incoming = write_csv(tmp_path / "incoming", "spot_BTC-USDT_1d.csv", CANDLE_HEADER, rows, compress=False)

    outcome = import_file(incoming, data_folder.root)

    assert (outcome.file, outcome.added, outcome.replaced, outcome.rows) == ("spot_BTC-USDT_1d.csv.gz", 2, 1, 5)
    merged = read_table(data_folder.root / "spot_BTC-USDT_1d.csv.gz", "spot")
    np.testing.assert_allclose(merged.column("close"), [10.0, 11.0, 12.5, 13.0, 14.0])


def test_import_of_freqtrade_json_takes_its_name(data_folder: DataFolder, tmp_path: Path) -> None:
    data_folder.root.mkdir(parents=True)
    candles = [[MS_T0 + i * 3_600_000, 1.0, 2.0, 0.5, 1.5 + i, 7.0] for i in range(4)]
    source = tmp_path / "ETH_USDT-1h.json"
    source.write_text(json.dumps(candles))
    funding = tmp_path / "ETH_USDT_USDT-8h-funding_rate.json"
    funding.write_text(json.dumps([[MS_T0, -0.0002, 0, 0, 0, 0], [MS_T0 + 8 * 3_600_000, 0.0001, 0, 0, 0, 0]]))

    import_file(source, data_folder.root)
    import_file(funding, data_folder.root)

    table = read_table(data_folder.root / "spot_ETH-USDT_1h.csv.gz", "spot")
    np.testing.assert_allclose(table.column("close"), [1.5, 2.5, 3.5, 4.5])
    assert int(table.times[1] - table.times[0]) == int(HOUR.total_seconds()) * 1_000_000_000
    rates = read_table(data_folder.root / "perp_ETH-USDT_funding_8h.csv.gz", "funding").column("funding_rate")
    np.testing.assert_allclose(rates, [-0.0002, 0.0001])


def test_import_with_a_target_name(data_folder: DataFolder, tmp_path: Path) -> None:
    data_folder.root.mkdir(parents=True)
    source = write_csv(tmp_path, "download.csv", CANDLE_HEADER, candle_rows(T0, DAY, [5.0, 6.0]), compress=False)

    outcome = import_file(source, data_folder.root, "spot_SOL-USDT_1d.csv.gz")

    assert outcome.file == "spot_SOL-USDT_1d.csv.gz"
    assert (data_folder.root / "spot_SOL-USDT_1d.csv.gz").is_file()


def test_import_refuses_a_nameless_or_bad_file_and_writes_nothing(data_folder: DataFolder, tmp_path: Path) -> None:
    data_folder.root.mkdir(parents=True)
    nameless = write_csv(tmp_path, "prices.csv", CANDLE_HEADER, candle_rows(T0, DAY, [5.0]), compress=False)
    bad = write_csv(
        tmp_path,
        "spot_BTC-USDT_1d.csv",
        CANDLE_HEADER,
        ["2024-01-02T00:00:00Z,1,1,1,1,1", "2024-01-01T00:00:00Z,1,1,1,1,1"],
    )

    with pytest.raises(BadInputError, match="cannot tell what this file holds"):
        import_file(nameless, data_folder.root)
    with pytest.raises(BadInputError, match="line 3"):
        import_file(bad, data_folder.root)
    assert list(data_folder.root.iterdir()) == []
