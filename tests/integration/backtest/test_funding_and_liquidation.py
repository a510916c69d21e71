"""Derivatives in the event engine, checked by hand against the history files.

* A short perpetual held through a period of positive funding receives, at every 8-hour stamp, exactly
  ``rate x amount x mark`` read from ``perp_BTC-USDT_funding_8h`` and ``perp_BTC-USDT_mark_8h``.
* A 10x long perpetual is liquidated at the first bar whose low crosses its liquidation price
  ``entry x (1 - 1/leverage) / (1 - maintenance rate)``, and closed at that price.
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
from trimtab.session import GuardSettings
from trimtab.valuation.valuate import MAINTENANCE_MARGIN_RATE

DATA = Path(__file__).resolve().parents[3] / "data" / "market"


def _rows(name: str) -> list[dict[str, str]]:
    with gzip.open(DATA / name, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000_000


def _delta_policy(delta: float, btc_target: float, leverage: float, band: float) -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": btc_target, "band": band, "hedge": "BTC/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 1.0 - btc_target, "band": 0.6, "cash": True},
            ],
            "strategy": {"kind": "delta-target", "deltas": {"BTC": delta}},
            "rebalance": {"hedge_leverage": leverage, "max_leverage": 3.0, "margin_buffer": 0.5},
            "costs": {"taker_fee": 0.0005, "slippage_bps": 0.0},
        }
    )


def test_a_short_perp_through_positive_funding_receives_rate_times_notional_at_each_stamp(
    load: Callable[..., MarketHistory],
) -> None:
    # A quarter of the capital in spot BTC, hedged to zero delta with a 1x short perpetual: nothing else moves.
    history = load(["BTC", "USDT"], "1d", "2024-02-01", "2024-03-31")
    result = run_backtest(_delta_policy(0.0, 0.25, 1.0, 0.1), history)
    perp_trades = [t for t in result.trades if t["instrument"] == "perp"]
    assert len(perp_trades) == 1, "the hedge is opened once and then left alone"
    short = perp_trades[0]
    assert short["side"] == "sell"
    opened = _ns(short["timestamp"])
    last_close = int(result.timestamps[-1])

    marks = {_ns(r["timestamp"]): float(r["open"]) for r in _rows("perp_BTC-USDT_mark_8h.csv.gz")}
    expected_paid = 0.0
    stamps = 0
    for row in _rows("perp_BTC-USDT_funding_8h.csv.gz"):
        stamp = _ns(row["timestamp"])
        if opened < stamp <= last_close:
            rate = float(row["funding_rate"])
            assert rate > 0.0  # February-March 2024: longs paid shorts at every settlement
            expected_paid += rate * (-short["amount"]) * marks[stamp]
            stamps += 1
    # The hedge opens with the initial allocation at the first bar's close: every later stamp counts.
    assert stamps == 3 * (len(result.timestamps) - 1)
    assert expected_paid < 0.0  # the short receives
    assert result.funding[-1] == pytest.approx(expected_paid, rel=1e-12)
    assert result.metrics["funding"] == pytest.approx(expected_paid, rel=1e-12)
    # Hand figure, pinned: what the short received over the two months (opened at the first close).
    assert -expected_paid == pytest.approx(1650.6421, abs=1e-3)


def test_a_leveraged_long_is_liquidated_at_the_bar_its_maintenance_margin_breaks(
    load: Callable[..., MarketHistory],
) -> None:
    leverage = 10.0
    history = load(["BTC", "USDT"], "1d", "2024-07-20", "2024-08-15")
    # The account's liquidation itself is under test: the session's guards (which would deleverage first) are off.
    unguarded = GuardSettings(liquidation_buffer=0.0, funding_switch=False)
    result = run_backtest(_delta_policy(1.0, 0.0, leverage, 0.05), history, guards=unguarded)
    perp = [t for t in result.trades if t["instrument"] == "perp"]
    assert perp and all(t["side"] == "buy" for t in perp)

    # By hand: the position is the perp buys before each bar's close (amount-weighted entry); it breaks
    # at the first bar whose low, moved by the perp's basis at the close, reaches
    # entry x (1 - 1/leverage) / (1 - maintenance rate).
    spot = {_ns(r["timestamp"]): r for r in _rows("spot_BTC-USDT_1d.csv.gz")}
    perp_close = {_ns(r["timestamp"]): float(r["close"]) for r in _rows("perp_BTC-USDT_1h.csv.gz")}
    hour = 3600 * 1_000_000_000
    expected_bar = expected_price = expected_amount = expected_entry = None
    for close_time in result.timestamps[1:]:
        before = [t for t in perp if _ns(t["timestamp"]) < int(close_time)]
        if not before:
            continue
        amount = sum(t["amount"] for t in before)
        entry = sum(t["amount"] * t["price"] for t in before) / amount
        liquidation_price = entry * (1.0 - 1.0 / leverage) / (1.0 - MAINTENANCE_MARGIN_RATE)
        candle = spot[int(close_time) - 24 * hour]
        basis = perp_close[int(close_time) - hour] / float(candle["close"])
        if float(candle["low"]) * basis <= liquidation_price:
            expected_bar, expected_price = int(close_time), liquidation_price
            expected_amount, expected_entry = amount, entry
            break
    assert expected_bar is not None and expected_price is not None
    assert expected_amount is not None and expected_entry is not None

    liquidations = [e for e in result.events if e["kind"] == "liquidation"]
    first = liquidations[0]
    assert _ns(first["timestamp"]) == expected_bar
    assert first["timestamp"] == "2024-08-04T00:00:00Z"  # the low of 3 August 2024
    assert first["amount"] == pytest.approx(expected_amount, rel=1e-12)
    assert first["price"] == pytest.approx(expected_price, rel=1e-12)
    assert first["realised_pnl"] == pytest.approx(expected_amount * (expected_price - expected_entry), rel=1e-9)
    assert result.metrics["liquidations"] == len(liquidations) >= 1
