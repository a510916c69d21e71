"""Leverage and liquidation in the backtest report, checked against figures worked from the trades and the files.

90 % of the capital in spot BTC hedged to a 40 % net delta with a 10x short perpetual (February 2024, guards
off): the backtest's account is the contract's default, unified and cross, whose collateral is its USDT
balance plus the perpetual's PnL, and the rally liquidates the short on 2024-02-15. At a few bars before that,
the book is rebuilt from the run's own fills and the funding files and valued at the perpetual's close from
``perp_BTC-USDT_1h`` (the mark): gross leverage = (|spot BTC value| + |amount x mark|) / equity, and the
distance to the cross liquidation price ``(cash + size x entry) / (size x (1 + maintenance rate))`` as a
fraction of the mark.
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
FEE = 0.0005
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
                {"name": "BTC", "assets": ["BTC"], "target": 0.9, "band": 0.05, "hedge": "BTC/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 0.1, "band": 0.6, "cash": True},
            ],
            "strategy": {"kind": "delta-target", "deltas": {"BTC": 0.4}},
            "rebalance": {"hedge_leverage": LEVERAGE, "max_leverage": 3.0, "margin_buffer": 0.5},
            "costs": {"taker_fee": FEE, "slippage_bps": 0.0},
            **classes,
        }
    )


def test_a_hedged_runs_leverage_and_liquidation_distance_match_its_positions(
    load: Callable[..., MarketHistory], btc_funding_paid: Callable[[float, int, int], float]
) -> None:
    history = load(["BTC", "USDT"], "1d", "2024-02-01", "2024-02-20")
    unguarded = GuardSettings(liquidation_buffer=0.0, funding_switch=False)
    result = run_backtest(_policy(), history, guards=unguarded, fast=False)
    assert result.risk is not None
    liquidations = [e for e in result.events if e["kind"] == "liquidation"]
    assert liquidations and liquidations[0]["timestamp"] == "2024-02-15T00:00:00Z"
    liquidated_bar = int(liquidations[0]["bar"])

    spot_close = _closes("spot_BTC-USDT_1d.csv.gz")
    perp_close = _closes("perp_BTC-USDT_1h.csv.gz")
    buy, short = result.trades[0], result.trades[1]
    assert (buy["side"], short["side"], short["instrument"]) == ("buy", "sell", "perp")
    size, entry, opened = short["amount"], short["price"], _ns(short["timestamp"])
    cash_after_trades = 100_000.0 - buy["amount"] * buy["price"] * (1 + FEE) - size * entry * FEE
    checked = 0
    for bar in (1, 4, liquidated_bar - 2, liquidated_bar - 1):
        close_time = int(result.timestamps[bar])
        assert [t for t in result.trades if _ns(t["timestamp"]) <= close_time] == [buy, short]
        mark = perp_close[close_time - HOUR]
        gross = abs(buy["amount"] * spot_close[close_time - 24 * HOUR]) + abs(size * mark)
        assert result.risk.gross_leverage[bar] == pytest.approx(gross / result.equity[bar], rel=1e-9)
        cash = cash_after_trades - btc_funding_paid(-size, opened, close_time)
        liquidation = (cash + size * entry) / (size * (1.0 + MAINTENANCE))
        assert result.risk.min_liquidation_distance[bar] == pytest.approx((liquidation - mark) / mark, rel=1e-9)
        checked += 1
    assert checked == 4
    # 140 % of equity gross (90 % spot and a 50 % short), margined by the 10 % in USDT: the short's
    # liquidation price sits under 20 % above the entry, and the rally brings the mark within a few percent.
    assert 1.3 < result.risk.gross_leverage[1] < 1.5
    assert 0.0 < result.risk.min_liquidation_distance[liquidated_bar - 1] < 0.05

    summary = result.summary()
    assert summary["max_gross_leverage"] == pytest.approx(float(result.risk.gross_leverage.max()))
    before = result.risk.min_liquidation_distance[:liquidated_bar]
    assert summary["min_liquidation_distance"] <= float(np.nanmin(before))

    page = render_report([NamedRun("short-10x", result)], title="t")
    assert "short-10x: leverage and liquidation distance" in page
    assert "Minimum liquidation distance (% of the mark)" in page
    assert "short-10x: liquidation" in page  # the marker on the equity chart
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
