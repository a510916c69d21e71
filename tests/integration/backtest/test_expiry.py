"""Dated futures in the event engine: settled at expiry at the underlying's price, and never traded after.

Checked by hand against the bundled Binance BTC/USDT candles: the June 2024 quarterly expires on
2024-06-28 at 08:00 UTC; its settlement price is the last spot close at or before that moment (the
08:00 close of the 07:00 hourly candle; on daily bars, the close of the 27 June candle at midnight).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.feed import MarketHistory
from trimtab.policy.config import Policy

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
JUNE = "BTC/USDT:USDT-240628"
EXPIRY = "2024-06-28T08:00:00Z"


def _close(name: str, open_time: str) -> float:
    with gzip.open(DATA / name, "rt", newline="") as handle:
        return next(float(r["close"]) for r in csv.DictReader(handle) if r["timestamp"] == open_time)


def _hedged_with(hedge: str) -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.25, "band": 0.1, "hedge": hedge},
                {"name": "CASH", "assets": ["USDT"], "target": 0.75, "band": 0.6, "cash": True},
            ],
            "strategy": {"kind": "delta-target", "deltas": {"BTC": 0.0}},
            "rebalance": {"hedge_leverage": 1.0, "max_leverage": 3.0, "margin_buffer": 0.5},
            "costs": {"taker_fee": 0.0005, "slippage_bps": 0.0},
        }
    )


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_short_quarterly_settles_at_the_08_00_close_and_the_class_goes_back_to_spot(
    load: Callable[..., MarketHistory],
) -> None:
    history = load(["BTC", "USDT"], "1h", "2024-06-20", "2024-07-05")
    result = run_backtest(_hedged_with(JUNE), history)
    shorts = [t for t in result.trades if t["symbol"] == JUNE]
    assert len(shorts) == 1 and shorts[0]["side"] == "sell"
    amount, entry = -shorts[0]["amount"], shorts[0]["price"]

    settlements = [e for e in result.events if e["kind"] == "settlement"]
    assert len(settlements) == 1
    settlement = settlements[0]
    underlying = _close("spot_BTC-USDT_1h.csv.gz", "2024-06-28T07:00:00Z")
    assert underlying == 61350.01
    assert settlement["timestamp"] == settlement["expired_at"] == EXPIRY
    assert settlement["underlying_price"] == underlying
    assert settlement["amount"] == pytest.approx(amount, rel=1e-12)
    # a short gains what the price fell: -amount x (61,350.01 - entry)
    assert settlement["cash"] == pytest.approx(amount * (underlying - entry), rel=1e-12)
    assert settlement["cash"] > 0
    # With its hedge gone the class is 25 % long against a delta target of 0: spot is sold at that close.
    after = [t for t in result.trades if _stamp(t["timestamp"]) >= _stamp(EXPIRY)]
    assert after and all(t["instrument"] == "spot" for t in after)
    assert after[0]["side"] == "sell" and after[0]["timestamp"] == EXPIRY


def test_a_june_future_is_not_traded_in_december(load: Callable[..., MarketHistory]) -> None:
    history = load(["BTC", "USDT"], "1d", "2024-06-01", "2024-12-31")
    result = run_backtest(_hedged_with(JUNE), history)
    assert all(_stamp(t["timestamp"]) < _stamp(EXPIRY) for t in result.trades if t["symbol"] == JUNE), (
        "nothing trades an expired future"
    )
    (settlement,) = [e for e in result.events if e["kind"] == "settlement"]
    # Daily bars close at midnight: the expiry is noticed at the close of 28 June (29 June 00:00), and settled
    # at the price known at 08:00 on the 28th, the close of the 27 June candle.
    assert settlement["timestamp"] == "2024-06-29T00:00:00Z"
    assert settlement["underlying_price"] == _close("spot_BTC-USDT_1d.csv.gz", "2024-06-27T00:00:00Z")
    assert result.metrics["final_equity"] > 0
