"""Loading aligned history: shared bars, quote assets, timeframe choice, windows and the bundled data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from trimtab.errors import BadInputError
from trimtab.feed import load_history
from trimtab.feed.table import to_ns

from .conftest import DAY, HOUR, T0, DataFolder, write_csv

BUNDLED = Path(__file__).resolve().parents[3] / "data" / "market"


def test_bars_are_the_timestamps_every_asset_shares(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1d", T0, [100.0, 101.0, 102.0, 103.0, 104.0], skip=[2])
    data_folder.spot("ETH", "1d", T0 + DAY, [10.0, 11.0, 12.0, 13.0, 14.0])

    history = load_history(data_folder.root, ["BTC", "ETH", "USDT"])

    # BTC lacks day 2; ETH starts on day 1 and runs to day 5; BTC ends on day 4
    assert [datetime.fromtimestamp(t / 1e9, UTC).day for t in history.timestamps] == [2, 4, 5]
    assert history.close.shape == (3, 3)
    assert history.close.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(history.close[:, 0], [101.0, 103.0, 104.0])
    np.testing.assert_allclose(history.close[:, 1], [10.0, 12.0, 13.0])
    np.testing.assert_allclose(history.close[:, 2], 1.0)
    np.testing.assert_allclose(history.volume[:, 2], 0.0)
    np.testing.assert_allclose(history.high[:, 0], np.array([101.0, 103.0, 104.0]) * 1.01)
    assert history.timestamps.dtype == np.int64
    assert history.gaps == ["BTC 1d: 1 missing bar 2024-01-03T00:00:00Z"]


def test_highs_lows_and_volumes_are_aligned_only_when_read(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1d", T0, [100.0, 101.0, 102.0])
    data_folder.spot("ETH", "1d", T0, [10.0, 11.0, 12.0])
    history = load_history(data_folder.root, ["BTC", "USDT", "ETH"])
    assert history._loaded == {}  # a spot fast-path backtest reads the closes only

    np.testing.assert_allclose(history.low[:, 2], np.array([10.0, 11.0, 12.0]) * 0.99)
    np.testing.assert_allclose(history.low[:, 1], 1.0)
    assert set(history._loaded) == {"low"}
    np.testing.assert_allclose(history.volume[:, 0], [10.0, 11.0, 12.0])
    np.testing.assert_allclose(history.volume[:, 1], 0.0)


def test_window_bounds_are_inclusive(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1d", T0, [float(v) for v in range(100, 110)])

    history = load_history(data_folder.root, ["BTC"], start=datetime(2024, 1, 3), end=datetime(2024, 1, 5, tzinfo=UTC))

    assert history.timestamps[0] == to_ns(datetime(2024, 1, 3, tzinfo=UTC))
    np.testing.assert_allclose(history.close[:, 0], [102.0, 103.0, 104.0])


def test_no_timeframe_picks_the_finest_that_every_asset_has(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1d", T0, [1.0, 2.0])
    data_folder.spot("BTC", "1h", T0, [1.0] * 30)
    data_folder.spot("ETH", "1d", T0, [1.0, 2.0])
    data_folder.spot("ETH", "1h", T0, [1.0] * 30)
    data_folder.spot("SOL", "1d", T0, [1.0, 2.0])

    assert load_history(data_folder.root, ["BTC", "ETH"]).timeframe == "1h"
    assert load_history(data_folder.root, ["BTC", "ETH", "SOL"]).timeframe == "1d"
    assert load_history(data_folder.root, ["BTC"], timeframe="1d").close.shape == (2, 1)


def test_a_stablecoin_without_a_file_names_the_file_it_looked_for(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1d", T0, [1.0, 2.0])

    with pytest.raises(BadInputError, match=r"USDC: looked for spot_USDC-USDT_1d\.csv\.gz"):
        load_history(data_folder.root, ["BTC", "USDC", "USDT"])


def test_a_requested_timeframe_that_an_asset_lacks_is_bad_input(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1d", T0, [1.0, 2.0])

    with pytest.raises(BadInputError, match=r"spot_BTC-USDT_1h\.csv\.gz"):
        load_history(data_folder.root, ["BTC"], timeframe="1h")


def test_assets_that_share_no_bar_are_bad_input(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1d", T0, [1.0, 2.0])
    data_folder.spot("ETH", "1d", T0 + 5 * DAY, [1.0, 2.0])

    with pytest.raises(BadInputError, match="share no 1d bar"):
        load_history(data_folder.root, ["BTC", "ETH"])


def test_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a folder"):
        load_history(tmp_path / "nowhere", ["BTC"])


def test_funding_marks_and_perp_closes_come_with_the_bars(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1d", T0, [100.0, 110.0, 120.0])
    funding = [
        "2023-12-31T16:00:00Z,0.0003",
        *[f"2024-01-0{1 + i // 3}T{(i % 3) * 8:02d}:00:00Z,{0.0001 * (i + 1)}" for i in range(12)],
    ]
    write_csv(data_folder.root, "perp_BTC-USDT_funding_8h.csv.gz", "timestamp,funding_rate", funding)
    marks = [
        f"2024-01-0{1 + i // 3}T{(i % 3) * 8:02d}:00:00Z,{200 + i},{201 + i},{199 + i},{200 + i}" for i in range(6)
    ]
    write_csv(data_folder.root, "perp_BTC-USDT_mark_8h.csv.gz", "timestamp,open,high,low,close", marks)
    # hourly perp candles for the first day only: the daily close is the 23:00 candle's close
    perp = [f"2024-01-01T{h:02d}:00:00Z,1,1,1,{1000 + h},5" for h in range(24)]
    write_csv(data_folder.root, "perp_BTC-USDT_1h.csv.gz", "timestamp,open,high,low,close,volume", perp)

    history = load_history(data_folder.root, ["BTC", "USDT"])

    series = history.funding["BTC"]
    # window: the bars' first open (Jan 1 00:00) through the last close (Jan 4 00:00): 10 settlements,
    # and the Dec 31 rate is dropped because a settlement falls exactly on the first bar
    assert series.times.shape == (10,)
    assert series.rates[0] == pytest.approx(0.0001)
    assert series.times[-1] == to_ns(datetime(2024, 1, 4, tzinfo=UTC))
    times, opens = history.marks["BTC"]
    assert times[0] == to_ns(T0)
    np.testing.assert_allclose(opens, [200, 201, 202, 203, 204, 205])
    np.testing.assert_allclose(history.perp_close["BTC"], [1023.0, np.nan, np.nan])
    assert history.implied_vol is None


def test_funding_before_the_first_bar_keeps_the_rate_in_force(data_folder: DataFolder) -> None:
    data_folder.spot("BTC", "1d", T0 + DAY, [100.0, 110.0])
    rows = [f"2024-01-01T{h:02d}:00:00Z,0.000{h // 8 + 1}" for h in (0, 8, 16)] + ["2024-01-02T00:00:00Z,0.0009"]
    write_csv(data_folder.root, "perp_BTC-USDT_funding_8h.csv.gz", "timestamp,funding_rate", rows)

    history = load_history(data_folder.root, ["BTC"])

    np.testing.assert_allclose(history.funding["BTC"].rates, [0.0009])


def test_bundled_daily_history_has_no_gaps_and_dvol_as_a_fraction() -> None:
    history = load_history(
        BUNDLED, ["BTC", "ETH", "USDT"], timeframe="1d", start=datetime(2023, 1, 1), end=datetime(2023, 12, 31)
    )

    assert history.close.shape == (365, 3)
    assert history.gaps == []
    # Binance BTC/USDT daily close of 2023-01-01 (the candle opened at midnight)
    assert history.close[0, 0] == pytest.approx(16616.75)
    assert history.implied_vol is not None
    assert 0.2 < float(np.median(history.implied_vol[1])) < 1.0
    assert set(history.funding) == {"BTC", "ETH"}
    # perp hourly candles start in 2024, so a 2023 daily run has no perp closes
    assert np.isnan(history.perp_close["BTC"]).all()


def test_bundled_hourly_history_reports_the_known_outage() -> None:
    history = load_history(BUNDLED, ["BTC"], timeframe="1h", start=datetime(2018, 2, 8), end=datetime(2018, 2, 10))

    assert any(line.startswith("BTC 1h: 33 missing bars 2018-02-08T01:00:00Z") for line in history.gaps)
    assert history.close.shape[0] == 49 - 33
    assert HOUR.total_seconds() == history.bar_seconds
