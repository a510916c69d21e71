"""The replay feed: bars stamped at their close, seeking, advancing, perp marks and funding in force."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from trimtab.errors import BadInputError
from trimtab.feed.history import FundingSeries, MarketHistory
from trimtab.venues.paper import ReplayFeed

HOUR_NS = 3_600 * 1_000_000_000
T0 = datetime(2025, 1, 1, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000


def _history() -> MarketHistory:
    times = np.array([T0_NS + i * HOUR_NS for i in range(4)], dtype=np.int64)
    close = np.array([[100.0, 1.0], [110.0, 1.0], [120.0, 1.0], [130.0, 1.0]])
    funding = FundingSeries(
        np.array([T0_NS - 8 * HOUR_NS, T0_NS + 2 * HOUR_NS], dtype=np.int64), np.array([1e-4, -2e-4])
    )
    return MarketHistory(
        timeframe="1h",
        assets=("BTC", "USDT"),
        timestamps=times,
        close=close,
        high=close,
        low=close,
        volume=np.zeros_like(close),
        funding={"BTC": funding},
        perp_close={"BTC": np.array([101.0, np.nan, 121.0, 131.0])},
    )


def test_bars_are_stamped_at_their_close_and_advance_to_the_end() -> None:
    feed = ReplayFeed(_history(), ("BTC/USDT:USDT",))
    first = feed.snapshot()
    assert first.timestamp == datetime(2025, 1, 1, 1, tzinfo=UTC)
    assert first.prices == {"BTC": 100.0, "USDT": 1.0}
    assert first.derivatives["BTC/USDT:USDT"].mark == 101.0
    assert first.derivatives["BTC/USDT:USDT"].funding_rate == 1e-4
    assert feed.advance()
    second = feed.snapshot()
    assert second.derivatives["BTC/USDT:USDT"].mark == 110.0  # no perp candle: the spot close
    assert feed.advance() and feed.snapshot().derivatives["BTC/USDT:USDT"].funding_rate == -2e-4
    assert feed.advance() and not feed.advance() and feed.at_end


def test_seek_to_a_moment_and_to_a_bars_close() -> None:
    feed = ReplayFeed(_history(), start=datetime(2025, 1, 1, 1, 30, tzinfo=UTC))
    assert feed.snapshot().prices["BTC"] == 120.0
    feed.seek_close(datetime(2025, 1, 1, 2, tzinfo=UTC))
    assert feed.snapshot().prices["BTC"] == 110.0
    with pytest.raises(BadInputError, match="after the last bar"):
        feed.seek(datetime(2026, 1, 1, tzinfo=UTC))
