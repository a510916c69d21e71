"""File names of the data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from trimtab.feed.layout import file_name, parse_name, timeframe_seconds


@pytest.mark.parametrize(
    ("name", "kind", "base", "quote", "timeframe"),
    [
        ("spot_BTC-USDT_1d.csv.gz", "spot", "BTC", "USDT", "1d"),
        ("perp_ETH-USDT_1h.csv.gz", "perp", "ETH", "USDT", "1h"),
        ("perp_ETH-USDT_funding_8h.csv.gz", "funding", "ETH", "USDT", "8h"),
        ("perp_ETH-USDT_mark_8h.csv", "mark", "ETH", "USDT", "8h"),
        ("iv_BTC-DVOL_1d.csv.gz", "iv", "BTC", "DVOL", "1d"),
        ("agg_BTC-USD_coingecko_1d.csv.gz", "agg", "BTC", "USD", "1d"),
        ("ref_USDT-USD_1d.csv.gz", "ref", "USDT", "USD", "1d"),
    ],
)
def test_layout_names_parse(name: str, kind: str, base: str, quote: str, timeframe: str) -> None:
    described = parse_name(Path(name))

    assert described is not None
    assert (described.kind, described.base, described.quote, described.timeframe) == (kind, base, quote, timeframe)
    if name.endswith(".gz"):
        assert file_name(kind, base, quote, timeframe) == name


@pytest.mark.parametrize(
    "name", ["README.md", "spot_BTC_1d.csv.gz", "spot_BTC-USDT_1d.parquet", "perp_BTC-USDT_x_8h.csv"]
)
def test_other_names_are_not_data(name: str) -> None:
    assert parse_name(Path(name)) is None


def test_timeframes_have_lengths() -> None:
    assert [timeframe_seconds(tf) for tf in ("1m", "4h", "1d", "1w")] == [60, 14400, 86400, 604800]
    with pytest.raises(ValueError, match="not a timeframe"):
        timeframe_seconds("daily")
