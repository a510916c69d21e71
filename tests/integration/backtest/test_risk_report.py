"""Leverage and liquidation in the backtest report, checked against figures worked from the trades and the files.

A 10x long BTC perpetual (July-August 2024, guards off) is liquidated on 2024-08-04. At a few bars before
that, the position is rebuilt from the run's own fills (amount, amount-weighted entry) and valued at the
perpetual's close from ``perp_BTC-USDT_1h`` (the mark): gross leverage = (|spot BTC value| + |amount x mark|)
/ equity, and the distance to ``entry x (1 - 1/leverage) / (1 - maintenance rate)`` as a fraction of the mark.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.backtest.report import NamedRun, render_report
from trimtab.feed import MarketHistory
from trimtab.policy.config import Policy
from trimtab.session import GuardSettings

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
HOUR = 3600 * 1_000_000_000
LEVERAGE = 10.0
MAINTENANCE = 0.005  # the maintenance margin rate without tiers (docs/valuation.md)


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000_000


def _closes(name: str) -> dict[int, float]:
    with gzip.open(DATA / name, "rt", newline="") as handle:
        return {_ns(r["timestamp"]): float(r["close"]) for r in csv.DictReader(handle)}


def _policy(**classes: object) -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.0, "band": 0.05, "hedge": "BTC/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 1.0, "band": 0.6, "cash": True},
            ],
            "strategy": {"kind": "delta-target", "deltas": {"BTC": 1.0}},
            "rebalance": {"hedge_leverage": LEVERAGE, "max_leverage": 3.0, "margin_buffer": 0.5},
            "costs": {"taker_fee": 0.0005, "slippage_bps": 0.0},
            **classes,
        }
    )


def test_a_hedged_runs_leverage_and_liquidation_distance_match_its_positions(
    load: Callable[..., MarketHistory],
) -> None:
    history = load(["BTC", "USDT"], "1d", "2024-07-20", "2024-08-15")
    unguarded = GuardSettings(liquidation_buffer=0.0, funding_switch=False)
    result = run_backtest(_policy(), history, guards=unguarded, fast=False)
    assert result.risk is not None
    liquidations = [e for e in result.events if e["kind"] == "liquidation"]
    assert liquidations and liquidations[0]["timestamp"] == "2024-08-04T00:00:00Z"
    liquidated_bar = int(liquidations[0]["bar"])

    spot_close = _closes("spot_BTC-USDT_1d.csv.gz")
    perp_close = _closes("perp_BTC-USDT_1h.csv.gz")
    checked = 0
    for bar in (1, 4, liquidated_bar - 2, liquidated_bar - 1):
        close_time = int(result.timestamps[bar])
        fills = [t for t in result.trades if _ns(t["timestamp"]) <= close_time]
        perp = [t for t in fills if t["instrument"] == "perp"]
        spot_btc = sum(t["amount"] for t in fills if t["instrument"] == "spot" and t["symbol"] == "BTC/USDT")
        amount = sum(t["amount"] for t in perp)
        entry = sum(t["amount"] * t["price"] for t in perp) / amount
        mark = perp_close[close_time - HOUR]
        gross = abs(spot_btc * spot_close[close_time - 24 * HOUR]) + abs(amount * mark)
        assert result.risk.gross_leverage[bar] == pytest.approx(gross / result.equity[bar], rel=1e-9)
        liquidation = entry * (1.0 - 1.0 / LEVERAGE) / (1.0 - MAINTENANCE)
        assert result.risk.min_liquidation_distance[bar] == pytest.approx((mark - liquidation) / mark, rel=1e-9)
        checked += 1
    assert checked == 4
    # Delta 1: one equity's worth of BTC exposure (leverage about 1 x), margined at 10x, so the liquidation
    # price sits under 10 % below the entry.
    assert 0.9 < result.risk.gross_leverage[liquidated_bar - 1] < 1.1
    assert 0.0 < result.risk.min_liquidation_distance[liquidated_bar - 1] < 0.1

    summary = result.summary()
    assert summary["max_gross_leverage"] == pytest.approx(float(result.risk.gross_leverage.max()))
    before = result.risk.min_liquidation_distance[:liquidated_bar]
    assert summary["min_liquidation_distance"] == pytest.approx(float(np.nanmin(before)))

    page = render_report([NamedRun("long-10x", result)], title="t")
    assert "long-10x: leverage and liquidation distance" in page
    assert "Minimum liquidation distance (% of the mark)" in page
    assert "long-10x: liquidation" in page  # the marker on the equity chart
    note = re.search(r"Peak gross leverage ([0-9.]+) x; closest approach to a liquidation ([0-9.]+) %", page)
    assert note is not None
    assert float(note.group(1)) == pytest.approx(float(np.nanmax(result.risk.gross_leverage)), abs=0.005)
    # Event values are rounded for people: no 16-digit floats in the events table.
    events = page.split("<h3>Events</h3>", 1)[1].split("<h3>Trades", 1)[0]
    assert "kind=" not in events and "<td>liquidation</td>" in events
    assert not re.search(r"\d\.\d{7,}", events), events


def test_a_spot_run_on_the_fast_path_says_it_has_no_leverage_chart(load: Callable[..., MarketHistory]) -> None:
    history = load(["BTC", "USDT"], "1d", "2024-07-20", "2024-08-15")
    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
        }
    )
    result = run_backtest(policy, history)
    assert result.used_fast_path and result.risk is None
    assert "max_gross_leverage" not in result.summary()
    page = render_report([NamedRun("spot", result)], title="t")
    assert "Spot only (the fast path): nothing is borrowed and nothing can be liquidated" in page
    assert "leverage and liquidation distance" not in page
