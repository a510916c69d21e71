"""Hedges over real history (daily bars, 2020-2025): the session's guards against the unguarded account.

BTC 40 % and ETH 30 % in 5-point bands, rebalanced with 2x perpetual hedges or with spot. Figures measured
on the bundled data and pinned as bounds; the docs quote them (docs/engine.md, *Hedges over real history*).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trimtab.backtest.engine import run_backtest
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
            "costs": {"taker_fee": 0.001, "slippage_bps": 5.0},
        }
    )


@pytest.mark.slow
def test_guarded_perp_hedges_track_like_spot_and_are_liquidated_far_less(load: Callable[..., MarketHistory]) -> None:
    history = load(["BTC", "ETH", "USDT"], "1d", "2020-01-01", "2025-12-31")
    spot = run_backtest(_policy("spot"), history)
    guarded = run_backtest(_policy("perp"), history)
    unguarded = run_backtest(
        _policy("perp"), history, guards=GuardSettings(liquidation_buffer=0.0, funding_switch=False, buffer_sigmas=0.0)
    )
    assert spot.metrics["tracking_error"] == pytest.approx(0.0316, abs=5e-4)
    assert abs(guarded.metrics["tracking_error"] - spot.metrics["tracking_error"]) < 0.01  # within one point
    assert guarded.metrics["tracking_error"] == pytest.approx(0.0306, abs=5e-4)
    # Unguarded, the hedge margin carries stays open when the remainder goes to spot, so more are liquidated.
    assert unguarded.metrics["tracking_error"] == pytest.approx(0.0344, abs=5e-4)
    assert unguarded.metrics["liquidations"] == 10
    # The buffer widened to 3 daily sigmas of the hedged asset reduced ETH's short before its January 2021 jump.
    assert guarded.metrics["liquidations"] == 0
    kinds = [e["kind"] for e in guarded.events]
    assert kinds.count("deleverage") == 15 and kinds.count("funding") > 0
    assert guarded.metrics["final_equity"] > unguarded.metrics["final_equity"]


@pytest.mark.slow
def test_auto_chooses_by_the_contracts_costs_within_margin_and_the_buffer(load: Callable[..., MarketHistory]) -> None:
    history = load(["BTC", "ETH", "USDT"], "1d", "2020-01-01", "2025-12-31")
    auto = run_backtest(_policy("auto"), history)
    assert auto.metrics["tracking_error"] == pytest.approx(0.0306, abs=5e-4)
    assert auto.metrics["liquidations"] == 0
    notes = [n for e in auto.events if e["kind"] == "trigger" for n in e.get("notes", ())]
    choices = [n for n in notes if n.startswith("auto: ")]
    hedged = [n for n in choices if " uses spot" not in n]
    # At 2x a new short opens about 49 % from its liquidation price: no hedge is refused over the six years.
    assert len(hedged) == 67 and len(choices) - len(hedged) == 33
    assert not any("refused" in n for n in choices)
