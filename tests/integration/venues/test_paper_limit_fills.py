"""Paper limit orders over replayed real bars fill only where the bars' traded range reaches them.

Every hour of a week of Binance BTC/USDT candles, a buy limit 0.3 % under the close and a sell limit 0.3 %
over it are left resting. Checked by hand against the raw candles: an order fills in the first later bar
whose low is strictly under its limit (a sell: whose high is strictly over it), at its limit price, as a
maker; an order that no later bar reaches never fills; no fill is ever outside its bar's range.
"""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trimtab.domain import Portfolio, SpotHolding
from trimtab.domain.plan import Side
from trimtab.feed.history import load_history
from trimtab.policy.config import CostsConfig
from trimtab.venues.paper import PaperVenue, ReplayFeed
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType
from trimtab.venues.simulation import RealityModels

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
START, END = datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 9, 23, tzinfo=UTC)
OFFSET = 0.003


def _candles() -> dict[datetime, tuple[float, float, float]]:
    """Bar close time -> (low, high, close), from the raw file."""
    out = {}
    with gzip.open(DATA / "spot_BTC-USDT_1h.csv.gz", "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            opened = datetime.fromisoformat(row["timestamp"].replace("Z", "+00:00"))
            if START <= opened <= END:
                out[opened + timedelta(hours=1)] = (float(row["low"]), float(row["high"]), float(row["close"]))
    return out


def test_resting_limits_fill_only_in_bars_that_trade_through_them_at_their_price() -> None:
    history = load_history(DATA, ["BTC", "USDT"], timeframe="1h", start=START, end=END, use_cache=False)
    feed = ReplayFeed(history)
    models = RealityModels.from_costs(CostsConfig(taker_fee=0.001, maker_fee=0.0002, slippage_bps=5.0))
    venue = PaperVenue(
        feed,
        base_currency="USDT",
        models=models,
        initial=Portfolio("USDT", (SpotHolding("USDT", 10_000_000.0), SpotHolding("BTC", 100.0))),
        touch_depth=1e12,
    )
    candles = _candles()
    placed: dict[str, tuple[datetime, Side, float]] = {}
    while True:
        now = feed.snapshot().timestamp
        close = candles[now][2]
        for side, price in ((Side.BUY, close * (1 - OFFSET)), (Side.SELL, close * (1 + OFFSET))):
            cid = f"tt-{side.value}-{now:%m%d%H}"
            venue.create_order(OrderRequest(cid, "BTC/USDT", side, OrderType.LIMIT, 0.01, round(price, 2)))
            placed[cid] = (now, side, round(price, 2))
        if not feed.advance():
            break
        venue.fetch_open_orders()  # the next bar: resting orders meet its range

    fills = {f.client_order_id: f for f in venue.fetch_fills("BTC/USDT")}
    filled_count = 0
    for cid, (at, side, limit) in placed.items():
        later = sorted(t for t in candles if t > at)
        reached = [t for t in later if (candles[t][0] < limit if side is Side.BUY else candles[t][1] > limit)]
        fill = fills.get(cid)
        if not reached:
            assert fill is None, f"{cid}: no later bar traded through {limit}"
            assert venue.fetch_order(cid, "BTC/USDT").status is OrderStatus.OPEN  # type: ignore[union-attr]
            continue
        filled_count += 1
        assert fill is not None, f"{cid}: the bar closing {reached[0]} traded through {limit}"
        low, high, _ = candles[fill.timestamp]
        assert fill.timestamp == reached[0]
        assert fill.price == limit and low <= fill.price <= high
        assert fill.fee == pytest.approx(0.01 * limit * 0.0002, rel=1e-12)
    assert 50 < filled_count < len(placed), "a week of hourly bars reaches most 0.3 % limits, not all"
