"""Parsing and writing data files: valid layouts round-trip, bad files name the file and the line."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from trimtab.errors import BadInputError
from trimtab.feed.csvio import format_number, parse_freqtrade_json, read_table, table_to_csv, write_table
from trimtab.feed.layout import SCHEMAS

from .conftest import CANDLE_HEADER, DataFolder

GOOD = [
    "2024-01-01T00:00:00Z,1,2,0.5,1.5,10",
    "2024-01-02T00:00:00Z,1.5,2,1,1.25,0",
]


def test_a_plain_csv_parses_to_ns_timestamps_and_floats(data_folder: DataFolder) -> None:
    path = data_folder.raw("spot_BTC-USDT_1d.csv", "\n".join([CANDLE_HEADER, *GOOD]) + "\n")

    table = read_table(path, "spot")

    assert table.times.tolist() == [1_704_067_200_000_000_000, 1_704_153_600_000_000_000]
    np.testing.assert_allclose(table.column("close"), [1.5, 1.25])
    np.testing.assert_allclose(table.column("volume"), [10.0, 0.0])


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        (["2024-01-01T00:00:00Z,1,2,0.5,1.5"], "line 2", "has 5 fields, expected 6"),
        ([GOOD[0], "2024-01-02T00:00:00Z,1,2,x,1.5,10"], "line 3", "low 'x' is not a number"),
        ([GOOD[0], "yesterday,1,2,0.5,1.5,10"], "line 3", "timestamp 'yesterday' is not ISO-8601 UTC"),
        ([GOOD[1], GOOD[0]], "line 3", "goes back before the previous row"),
        ([GOOD[0], GOOD[0]], "line 3", "repeats the previous row"),
        ([GOOD[0], "2024-01-02T00:00:00Z,1,2,0.5,0,10"], "line 3", "close must be a positive number"),
        ([GOOD[0], "2024-01-02T00:00:00Z,1,2,0.5,-3,10"], "line 3", "close must be a positive number"),
        (["2024-01-02T00:00:00Z,1,2,0.5,nan,10"], "line 2", "close must be a positive number"),
        (["2024-01-02T00:00:00Z,1,2,0.5,1,-1"], "line 2", "volume must be zero or more"),
    ],
)
def test_a_bad_file_names_the_file_and_the_line(
    data_folder: DataFolder, rows: list[str], field: str, message: str
) -> None:
    path = data_folder.raw("spot_BTC-USDT_1d.csv", "\n".join([CANDLE_HEADER, *rows]) + "\n")

    with pytest.raises(BadInputError) as caught:
        read_table(path, "spot")

    assert caught.value.source == "spot_BTC-USDT_1d.csv"
    assert caught.value.field == field
    assert message in caught.value.message


def test_a_wrong_header_is_reported_on_line_one(data_folder: DataFolder) -> None:
    path = data_folder.raw("spot_BTC-USDT_1d.csv", "date,open,high,low,close,volume\n" + GOOD[0] + "\n")

    with pytest.raises(BadInputError, match=r"spot_BTC-USDT_1d\.csv: line 1: header must be timestamp,open"):
        read_table(path, "spot")


def test_a_corrupt_gzip_is_bad_input(data_folder: DataFolder) -> None:
    path = data_folder.raw("spot_BTC-USDT_1d.csv.gz", "")
    path.write_bytes(gzip.compress(b"timestamp,open\n")[:12])

    with pytest.raises(BadInputError, match="not a valid gzip file"):
        read_table(path, "spot")


def test_negative_funding_is_allowed_but_not_infinity(data_folder: DataFolder) -> None:
    good = data_folder.raw("perp_BTC-USDT_funding_8h.csv", "timestamp,funding_rate\n2024-01-01T00:00:00Z,-0.0003\n")
    bad = data_folder.raw("perp_ETH-USDT_funding_8h.csv", "timestamp,funding_rate\n2024-01-01T00:00:00Z,inf\n")

    assert read_table(good, "funding").column("funding_rate")[0] == -0.0003
    with pytest.raises(BadInputError, match="line 2: funding_rate must be a finite number"):
        read_table(bad, "funding")


def test_epoch_milliseconds_are_accepted() -> None:
    from trimtab.feed.csvio import parse_csv_text

    table = parse_csv_text("timestamp,funding_rate\n1704067200000,0.0001\n", SCHEMAS["funding"], "x.csv")

    assert table.times.tolist() == [1_704_067_200_000_000_000]


def test_freqtrade_json_candles_parse_and_reject_short_rows() -> None:
    table = parse_freqtrade_json("[[1704067200000, 1, 2, 0.5, 1.5, 10], [1704153600000, 1.5, 2, 1, 1.25, 3]]", "a.json")

    np.testing.assert_allclose(table.column("close"), [1.5, 1.25])
    with pytest.raises(BadInputError, match=r"a\.json: row 1: must be"):
        parse_freqtrade_json("[[1704067200000, 1, 2, 0.5, 1.5, 10], [1704153600000, 1.5]]", "a.json")
    with pytest.raises(BadInputError, match=r"line 2: close must be a positive number"):
        parse_freqtrade_json("[[1704067200000, 1, 2, 0.5, 1.5, 10], [1704153600000, 1, 2, 1, 0, 3]]", "a.json")


def test_written_files_read_back_identically(tmp_path: Path) -> None:
    original = parse_freqtrade_json("[[1704067200000, 42000.5, 42100, 41000.25, 42050.125, 0.000123]]", "a.json")
    target = tmp_path / "spot_BTC-USDT_1d.csv.gz"

    write_table(target, original, SCHEMAS["spot"])

    again = read_table(target, "spot")
    assert again.times.tolist() == original.times.tolist()
    for name in ("open", "high", "low", "close", "volume"):
        assert again.column(name).tolist() == original.column(name).tolist()
    assert "e-" not in table_to_csv(again, SCHEMAS["spot"])
    assert [p.name for p in tmp_path.iterdir()] == ["spot_BTC-USDT_1d.csv.gz"]


@pytest.mark.parametrize(
    ("value", "text"), [(1.0, "1"), (0.000123, "0.000123"), (1e-7, "0.0000001"), (42000.5, "42000.5")]
)
def test_numbers_are_written_without_scientific_notation(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize("stamp", ["2024-01-02T00:00:00+02:00", "2024-01-02T00:00:00-0500", "2024-01-02 00:00:00+01"])
def test_a_timestamp_with_an_offset_other_than_utc_is_refused_naming_its_line(stamp: str) -> None:
    from trimtab.feed.csvio import parse_timestamps

    with pytest.raises(BadInputError, match=r"x\.csv: line 3: timestamp .* is not in UTC; give it with Z"):
        parse_timestamps(["2024-01-01T00:00:00Z", stamp], "x.csv", first_line=2)


def test_utc_timestamps_in_every_accepted_form_are_read() -> None:
    from trimtab.feed.csvio import parse_timestamps

    day = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
    stamps = ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00-00:00", "2024-01-01"]
    assert list(parse_timestamps(stamps[:1], "x.csv", 2)) == [day]
    for stamp in stamps[1:]:
        assert list(parse_timestamps([stamp], "x.csv", 2)) == [day]
