"""Order lifecycle edge cases: fills that lag the order's status, a cancel racing a fill, an overfill."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from trimtab.domain.plan import Side
from trimtab.execution.tracker import OrderTracker
from trimtab.storage.journal import Journal, OverfillError
from trimtab.venues.ports import Fill, OrderRequest, OrderType


def _tracker(venue: Any, journal: Journal, clock: Any, kit: Any) -> OrderTracker:
    return OrderTracker(venue, journal, kit.fast_config(), clock, clock.sleep)


def test_an_order_filled_at_the_venue_stays_open_until_its_fills_arrive(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.FaultyVenue(kit.paper(clock))
    hidden = {"calls": 2}
    real_fills = venue.inner.fetch_fills

    def lagging(symbol: str, since: datetime | None = None) -> list[Fill]:
        if hidden["calls"] > 0:
            hidden["calls"] -= 1
            return []
        return real_fills(symbol, since)

    venue.fetch_fills = lagging
    tracker = _tracker(venue, journal, clock, kit)
    order = tracker.submit(OrderRequest("tt-plan1-0-0", "BTC/USDT", Side.SELL, OrderType.MARKET, 0.2), "plan1", None)
    assert order.status == "partially_filled" and order.filled == 0.0  # the venue says filled; no fill seen yet
    order = tracker.resolve("tt-plan1-0-0")
    assert order.status == "partially_filled"
    order = tracker.resolve("tt-plan1-0-0")
    assert order.status == "filled" and order.filled == pytest.approx(0.2)


def test_a_cancel_that_races_a_fill_keeps_the_fill(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.paper(clock)
    tracker = _tracker(venue, journal, clock, kit)
    tracker.submit(OrderRequest("tt-plan1-0-0", "BTC/USDT", Side.BUY, OrderType.LIMIT, 0.1, 45_000.0), "plan1", None)
    venue.fill_order("tt-plan1-0-0", 0.04)  # someone takes part of it just before the cancel lands
    order = tracker.cancel("tt-plan1-0-0")
    assert order.status == "canceled" and order.filled == pytest.approx(0.04)
    assert [f.amount for f in journal.fills("tt-plan1-0-0")] == pytest.approx([0.04])


def test_a_venue_reporting_more_than_the_order_is_an_overfill(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.FaultyVenue(kit.paper(clock))
    real_fills = venue.inner.fetch_fills

    def inflated(symbol: str, since: datetime | None = None) -> list[Fill]:
        fills = real_fills(symbol, since)
        extra = [
            Fill(
                f.trade_id + "-x",
                f.client_order_id,
                f.exchange_order_id,
                f.symbol,
                f.side,
                f.amount,
                f.price,
                f.fee,
                f.fee_currency,
                f.timestamp,
            )
            for f in fills
        ]
        return fills + extra

    venue.fetch_fills = inflated
    tracker = _tracker(venue, journal, clock, kit)
    with pytest.raises(OverfillError):
        tracker.submit(OrderRequest("tt-plan1-0-0", "BTC/USDT", Side.SELL, OrderType.MARKET, 0.2), "plan1", None)
    order = journal.order("tt-plan1-0-0")
    assert order is not None and order.filled == pytest.approx(0.2)  # the first fill, never more
