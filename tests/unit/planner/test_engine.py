"""make_plan end to end: triggers, ordering, determinism, band-edge, overrides from the target model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trimtab.domain import MarketSnapshot, Portfolio, Side
from trimtab.planner import PlanContext, make_plan
from trimtab.planner.orders import trade_order
from trimtab.policy.config import Policy


def test_no_trades_and_goals_at_current_weights_when_the_trigger_does_not_fire(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 48000.0})
    plan = make_plan(portfolio, market_of({"BTC": 52000.0}), policy_of(btc_stable))
    assert not plan.triggered
    assert plan.trades == ()
    assert [c.goal for c in plan.classes] == [c.weight for c in plan.classes] == [0.52, 0.48]
    assert plan.post_trade == {"BTC": 0.52, "STABLE": 0.48}
    assert plan.costs.fees == 0.0
    assert plan.margin.ok
    assert plan.trigger_reason == "every class is inside its band"


def test_calendar_trigger_rebalances_an_in_band_portfolio_to_target(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 48000.0})
    policy = policy_of(btc_stable, trigger={"kind": "calendar", "every": "7d"})
    plan = make_plan(portfolio, market_of({"BTC": 52000.0}), policy)
    assert plan.triggered
    (trade,) = plan.trades
    assert trade.side is Side.SELL and trade.notional == pytest.approx(2000.0)
    # Band-edge on the same book: everything is already inside, nothing to do.
    edge = make_plan(portfolio, market_of({"BTC": 52000.0}), policy_of(btc_stable, to="band-edge", trigger=None))
    assert not edge.triggered
    calendar_edge = policy_of(btc_stable, to="band-edge", trigger={"kind": "calendar", "every": "7d"})
    assert make_plan(portfolio, market_of({"BTC": 52000.0}), calendar_edge).trades == ()


def test_band_edge_sells_only_down_to_the_upper_edge(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 42000.0})
    plan = make_plan(portfolio, market_of({"BTC": 58000.0}), policy_of(btc_stable, to="band-edge"))
    (trade,) = plan.trades
    # BTC 58 % of 100,000, band 45-55 %: the sale x that leaves 55 % after its 0.15 % of fee and slippage
    # (paid from cash) solves (58,000 - x) / (100,000 - 0.0015 x) = 0.55: x = 3,000 / (1 - 0.55 x 0.0015).
    sale = 3000.0 / (1.0 - 0.55 * 0.0015)
    assert sale == pytest.approx(3002.477, abs=1e-3)
    assert trade.notional == pytest.approx(sale, rel=1e-12)
    assert plan.classes[0].goal == pytest.approx((58000.0 - sale) / 100000.0, rel=1e-12)


def test_trades_list_sells_before_buys_and_reductions_before_openings(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    # Equity 500,000. BTC 48 % with a long perp: reduce it, then open a short. ETH 24 % with a short: buy it
    # back, then go long. ALTS (no hedge) at 16 %: back to 15 % with spot, re-split among its assets.
    portfolio = portfolio_of(
        {"BTC": 2.3, "ETH": 45.0, "SOL": 200.0, "AVAX": 800.0, "LINK": 1600.0, "USDT": 55000.0},
        [("BTC/USDT:USDT", 0.1, 100000.0, 3.0), ("ETH/USDT:USDT", -5.0, 3000.0, 3.0)],
    )
    market = market_of(
        {"BTC": 100000.0, "ETH": 3000.0, "SOL": 160.0, "AVAX": 30.0, "LINK": 15.0},
        {"BTC/USDT:USDT": (100000.0, 0.0), "ETH/USDT:USDT": (3000.0, 0.0), "ALTS/USDT:USDT": (100.0, 0.0)},
    )
    classes = [dict(c) for c in four_classes]
    del classes[2]["hedge"]
    plan = make_plan(portfolio, market, policy_of(classes, instrument="perp", hedge_leverage=3.0))
    keys = [trade_order(t) for t in plan.trades]
    assert keys == sorted(keys)
    legs = [(t.symbol, t.side.value, t.reduce_only, round(t.notional, 6)) for t in plan.trades]
    assert legs == [
        ("BTC/USDT:USDT", "sell", True, 10000.0),
        ("BTC/USDT:USDT", "sell", False, 30000.0),
        ("SOL/USDT", "sell", False, 7000.0),
        ("ETH/USDT:USDT", "buy", True, 15000.0),
        ("ETH/USDT:USDT", "buy", False, 15000.0),
        ("AVAX/USDT", "buy", False, 1000.0),
        ("LINK/USDT", "buy", False, 1000.0),
    ]
    assert plan.margin.ok
    assert any("ALTS has no hedge" in note for note in plan.notes)


def test_same_inputs_give_the_same_plan(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    portfolio = portfolio_of({"BTC": 2.3, "ETH": 40.0, "SOL": 200.0, "AVAX": 800.0, "LINK": 1600.0, "USDT": 90000.0})
    market = market_of(
        {"BTC": 100000.0, "ETH": 3000.0, "SOL": 160.0, "AVAX": 30.0, "LINK": 15.0},
        {"BTC/USDT:USDT": (100000.0, 0.0002), "ETH/USDT:USDT": (3000.0, -0.0001), "ALTS/USDT:USDT": (100.0, 0.0)},
    )
    policy = policy_of(four_classes, instrument="auto", to="band-edge")
    first = make_plan(portfolio, market, policy).to_dict()
    second = make_plan(portfolio, market, policy).to_dict()
    assert first == second
    assert any(note.startswith("auto: BTC") for note in first["notes"])


def test_plan_json_has_the_contract_fields(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 42000.0})
    data = make_plan(portfolio, market_of({"BTC": 58000.0}), policy_of(btc_stable)).to_dict()
    assert {
        "base_currency",
        "equity",
        "triggered",
        "classes",
        "trades",
        "post_trade",
        "costs",
        "margin",
        "notes",
    } <= set(data)
    assert set(data["classes"][0]) >= {"name", "target", "lower", "upper", "weight", "net_exposure", "breached", "goal"}
    assert set(data["trades"][0]) >= {"class", "symbol", "instrument", "side", "amount", "notional", "venue"}
    assert set(data["costs"]) == {"fees", "slippage", "funding_per_day", "tax", "realised_gain", "realised_loss"}
    assert set(data["margin"]) >= {"initial", "free_collateral", "ok"}


def test_context_volatility_overrides_the_snapshots_for_adaptive_bands(
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
    policy_of: Callable[..., Policy],
) -> None:
    adaptive = {"kind": "threshold", "adaptive": {"reference_vol": 0.6, "min_band": 0.01, "max_band": 0.15}}
    policy = policy_of(btc_stable, trigger=adaptive)
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 42000.0})
    market = market_of({"BTC": 58000.0}, volatility={"BTC": 0.6})
    # At the reference volatility the band is the fixed +/- 5: 58 % is breached.
    assert make_plan(portfolio, market, policy).triggered
    # Twice the volatility doubles BTC's band to +/- 10: 58 % is inside. The cash class keeps +/- 5 ...
    calm = make_plan(portfolio, market, policy, PlanContext(volatility={"BTC": 1.2}))
    assert calm.classes[0].upper == pytest.approx(0.6)
    # ... and it is breached at 42 %, so the plan still fires on it.
    assert calm.classes[1].breached


def test_target_model_forces_perp_for_a_delta_target(
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [dict(c) for c in btc_stable],
            "rebalance": {"instrument": "spot", "hedge_leverage": 5.0},
            "strategy": {"kind": "delta-target", "deltas": {"BTC": 0.0}},
        }
    )
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 50000.0})
    market = market_of({"BTC": 50000.0}, {"BTC/USDT:USDT": (50000.0, 0.0001)})
    plan = make_plan(portfolio, market, policy)
    (trade,) = plan.trades
    assert (trade.symbol, trade.side, trade.amount) == ("BTC/USDT:USDT", Side.SELL, pytest.approx(1.0))
    assert plan.post_trade["BTC"] == pytest.approx(0.0, abs=1e-12)
    assert any("net delta goal" in note for note in plan.notes)


def test_core_satellite_hedges_the_core_excess_with_its_index_perp(
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    classes = [dict(c) for c in four_classes]
    classes[0]["hedge"] = "BTC/USDT:USDT-261225"  # the strategy's index hedge overrides the class's own
    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": classes,
            "rebalance": {"instrument": "spot", "scope": "breached", "hedge_leverage": 3.0},
            "strategy": {
                "kind": "core-satellite",
                "core": ["BTC", "ETH"],
                "satellite": ["ALTS"],
                "index_hedge": "BTC/USDT:USDT",
            },
        }
    )
    # BTC 46 % + ETH 30 % = 76 % against a 70 % core sleeve: the 6 % excess (30,000) is shorted on the index.
    portfolio = portfolio_of({"BTC": 2.3, "ETH": 50.0, "SOL": 250.0, "AVAX": 1000.0, "LINK": 1000.0, "USDT": 45000.0})
    market = market_of(
        {"BTC": 100000.0, "ETH": 3000.0, "SOL": 160.0, "AVAX": 30.0, "LINK": 5.0},
        {"BTC/USDT:USDT": (100000.0, 0.0001), "BTC/USDT:USDT-261225": (101000.0, 0.0)},
    )
    plan = make_plan(portfolio, market, policy)
    assert plan.equity == pytest.approx(500000.0)
    (trade,) = plan.trades
    assert (trade.symbol, trade.side, trade.reduce_only) == ("BTC/USDT:USDT", Side.SELL, False)
    assert trade.notional == pytest.approx(30000.0)
    assert plan.post_trade["BTC"] == pytest.approx(200000.0 / (500000.0 - 30.0))


def test_plan_context_times_reach_the_trigger(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    from datetime import timedelta

    portfolio = portfolio_of({"BTC": 1.0, "USDT": 42000.0})
    market = market_of({"BTC": 58000.0})
    policy = policy_of(btc_stable, trigger={"kind": "calendar", "every": "7d"})
    recent = make_plan(portfolio, market, policy, PlanContext(last_rebalance=market.timestamp - timedelta(days=3)))
    assert not recent.triggered and recent.trades == ()
    due = make_plan(portfolio, market, policy, PlanContext(last_rebalance=market.timestamp - timedelta(days=7)))
    assert due.triggered and len(due.trades) == 1
    hybrid = policy_of(btc_stable, trigger={"kind": "hybrid", "every": "1d"})
    waiting = make_plan(portfolio, market, hybrid, PlanContext(last_check=market.timestamp - timedelta(hours=2)))
    assert not waiting.triggered
    assert make_plan(portfolio, market, hybrid, PlanContext(last_check=None)).triggered
