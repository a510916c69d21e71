"""Hedges over real history (daily bars, 2020-2025): the session's guards against the unguarded account.

BTC 40 % and ETH 30 % in 5-point bands, rebalanced with 2x perpetual hedges or with spot. The tracking
errors are measured on the bundled data and pinned as bounds; the docs quote them (docs/engine.md, *Hedges
over real history*). The account is the contract's default (unified, cross: every hedge is margined by the
whole USDT balance plus the perpetuals' PnL), and its liquidations and liquidation distances are worked by
hand from the trades and the files (``CrossByHand`` in this folder's conftest), not taken from the engine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.backtest.result import BacktestResult
from trimtab.feed import MarketHistory
from trimtab.policy.config import Policy
from trimtab.session import GuardSettings


def _policy(instrument: str) -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.4, "band": 0.05, "hedge": "BTC/USDT:USDT"},
                {"name": "ETH", "assets": ["ETH"], "target": 0.3, "band": 0.05, "hedge": "ETH/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 0.3, "band": 0.05, "cash": True},
            ],
            "rebalance": {"instrument": instrument, "hedge_leverage": 2, "max_leverage": 3},
            # "auto": hedges priced and watched over their measured holding time (7 days would be taken as is)
            "costs": {"taker_fee": 0.001, "slippage_bps": 5.0, "funding_horizon_days": "auto"},
        }
    )


@pytest.mark.slow
def test_guarded_perp_hedges_track_like_spot_and_are_liquidated_far_less(
    load: Callable[..., MarketHistory], cross_by_hand: Callable[[list[str], float], Any]
) -> None:
    history = load(["BTC", "ETH", "USDT"], "1d", "2020-01-01", "2025-12-31")
    spot = run_backtest(_policy("spot"), history)
    guarded = run_backtest(_policy("perp"), history)
    unguarded = run_backtest(
        _policy("perp"), history, guards=GuardSettings(liquidation_buffer=0.0, funding_switch=False, buffer_sigmas=0.0)
    )
    assert spot.metrics["tracking_error"] == pytest.approx(0.0316, abs=5e-4)
    assert abs(guarded.metrics["tracking_error"] - spot.metrics["tracking_error"]) < 0.01  # within one point
    assert guarded.metrics["tracking_error"] == pytest.approx(0.0313, abs=5e-4)
    assert unguarded.metrics["tracking_error"] == pytest.approx(0.0326, abs=5e-4)

    # Unguarded, the hedge margin carries stays open when the remainder goes to spot: ETH's short, opened near
    # 280 in 2020, is liquidated once in May 2021 near 4 354, where the USDT the spot sales had piled up, less
    # the short's loss and BTC's, meets the maintenance margin. By hand: that price, at that bar, and no other.
    replayed = cross_by_hand(["BTC", "ETH"], 0.001).replay(unguarded)
    assert replayed.missed == []
    [(event, price, first)] = replayed.liquidations
    assert (event["symbol"], event["timestamp"], first) == ("ETH/USDT:USDT", "2021-05-13T00:00:00Z", "ETH")
    assert event["price"] == pytest.approx(price, rel=1e-9)
    assert event["price"] == pytest.approx(4_354.23, abs=0.01)
    assert unguarded.metrics["liquidations"] == 1
    _matches(unguarded, replayed.distances)

    # Guarded, the funding monitor swaps dear hedges for spot, and under cross margin no hedge came within even
    # 25 % of its liquidation price (by hand), so the ladder never had to act and nothing was liquidated.
    replayed = cross_by_hand(["BTC", "ETH"], 0.001).replay(guarded)
    assert replayed.missed == [] and replayed.liquidations == []
    assert min(replayed.distances.values()) == pytest.approx(0.4519, abs=1e-4)
    _matches(guarded, replayed.distances)
    assert guarded.metrics["liquidations"] == 0
    kinds = [e["kind"] for e in guarded.events]
    assert kinds.count("deleverage") == 0 and kinds.count("funding") > 0
    assert guarded.metrics["final_equity"] > unguarded.metrics["final_equity"]

    # The session's measured holding time per hedge, weighted by notional, is the one worked from the trade log:
    # guarded, BTC's hedges were held 54.3 days and ETH's 37.8; unguarded, 256.5 and 233.4.
    for run, expected in ((guarded, (54.34, 37.81)), (unguarded, (256.52, 233.37))):
        measured = {e["symbol"]: e["hold_days"] for e in run.events if e["kind"] == "hedge_hold"}
        assert measured == pytest.approx(_holds_by_hand(run), rel=1e-9)
        assert (measured["BTC/USDT:USDT"], measured["ETH/USDT:USDT"]) == pytest.approx(expected, abs=0.01)


@pytest.mark.slow
def test_auto_chooses_by_the_contracts_costs_within_margin_and_the_buffer(
    load: Callable[..., MarketHistory], cross_by_hand: Callable[[list[str], float], Any]
) -> None:
    history = load(["BTC", "ETH", "USDT"], "1d", "2020-01-01", "2025-12-31")
    auto = run_backtest(_policy("auto"), history)
    assert auto.metrics["tracking_error"] == pytest.approx(0.0311, abs=5e-4)
    assert auto.metrics["liquidations"] == 0
    assert sum(1 for e in auto.events if e["kind"] == "deleverage") == 0
    notes = [n for e in auto.events if e["kind"] == "trigger" for n in e.get("notes", ())]
    choices = [n for n in notes if n.startswith("auto: ")]
    hedged = [n for n in choices if " uses spot" not in n]
    assert len(hedged) == 49 and len(choices) - len(hedged) == 36
    # The cross account margins every hedge from one USDT balance: 8 cheaper hedges were refused because the
    # account's margin could not carry them (never for the liquidation buffer). Each refusal's figures hold
    # by hand: free collateral = collateral - initial margin, below margin_buffer (0.5) x initial margin.
    refused = [n for n in choices if "refused" in n]
    assert len(refused) == 8 and all("the accounts' margin cannot carry it" in n for n in refused)
    for note in refused:
        figures = re.search(
            r"free collateral (-?[0-9.]+) < 0.5 x initial margin ([0-9.]+) \(collateral (-?[0-9.]+)\)", note
        )
        assert figures is not None, note
        free, initial, collateral = (float(x) for x in figures.groups())
        assert free == pytest.approx(collateral - initial, abs=0.011) and free < 0.5 * initial
    # The hedges it opened stayed far from liquidation: by hand, 23.7 % at the closest.
    replayed = cross_by_hand(["BTC", "ETH"], 0.001).replay(auto)
    assert replayed.missed == [] and replayed.liquidations == []
    _matches(auto, replayed.distances)
    assert min(replayed.distances.values()) == pytest.approx(0.2369, abs=1e-4)


def _holds_by_hand(result: BacktestResult) -> dict[str, float]:
    """Each perpetual's entry notional (``|amount| x`` the average entry price) integrated over the days it was
    held, over the notional its openings and top-ups added, replayed from the liquidations and the trade log."""
    held: dict[str, tuple[float, float]] = {}  # symbol -> (amount, average entry price) after the fills so far
    size: dict[str, tuple[float, float]] = {}  # symbol -> (entry notional, since when in days)
    integral: dict[str, float] = {}
    opened: dict[str, float] = {}
    by_time: dict[str, list[dict[str, Any]]] = {}
    for event in result.events:  # a liquidation closes the position at its bar, before the bar's trades
        if event["kind"] == "liquidation":
            stamp = datetime.fromtimestamp(int(result.timestamps[event["bar"]]) / 1e9, UTC).isoformat()
            side = "sell" if event["amount"] > 0 else "buy"
            fill = {"symbol": event["symbol"], "side": side, "amount": abs(event["amount"]), "price": event["price"]}
            by_time.setdefault(stamp.replace("+00:00", "Z"), []).append(fill)
    for trade in result.trades:
        if trade["instrument"] == "perp":
            by_time.setdefault(trade["timestamp"], []).append(trade)
    for stamp in sorted(by_time):
        day = datetime.fromisoformat(stamp).timestamp() / 86_400.0
        before = dict(held)
        for trade in by_time[stamp]:
            signed = trade["amount"] if trade["side"] == "buy" else -trade["amount"]
            amount, entry = held.get(trade["symbol"], (0.0, 0.0))
            if amount * signed > 0:  # a top-up: the average entry price
                entry = (amount * entry + signed * trade["price"]) / (amount + signed)
            elif abs(signed) > abs(amount):  # through zero: opened at this fill's price
                entry = trade["price"]
            held[trade["symbol"]] = (amount + signed, entry)
        for symbol, (amount, entry) in held.items():
            old_amount = before.get(symbol, (0.0, 0.0))[0]
            if abs(amount - old_amount) < 1e-12:
                continue
            notional, since = size.get(symbol, (0.0, day))
            integral[symbol] = integral.get(symbol, 0.0) + notional * (day - since)
            new = abs(amount) * entry if abs(amount) > 1e-12 else 0.0
            added = new if old_amount * amount <= 0 else max(new - notional, 0.0)
            opened[symbol] = opened.get(symbol, 0.0) + added
            size[symbol] = (new, day)
    end = float(result.timestamps[-1]) / 1e9 / 86_400.0
    return {s: (integral[s] + size[s][0] * (end - size[s][1])) / opened[s] for s in opened}


def _matches(result: BacktestResult, distances: dict[int, float]) -> None:
    """The engine's per-bar minimum liquidation distance is the one worked by hand at every bar."""
    assert result.risk is not None
    recorded = {bar: d for bar, d in enumerate(result.risk.min_liquidation_distance) if math.isfinite(d)}
    assert set(recorded) == set(distances)
    for bar, distance in distances.items():
        assert recorded[bar] == pytest.approx(distance, rel=1e-9, abs=1e-12), bar
