"""Cash flows steer a rebalance: hand-computed trades of a deposit and a withdrawal, and the session's pending flow.

The book (before any flow): BTC 0.6 at 50 000 = 30 000 (30 %, target 40 %), ETH 16 at 2 500 = 40 000 (40 %,
target 30 %), SOL 50 at 100 = 5 000 (5 %, target 10 %), USDT 25 000 (25 %, target 20 %): equity 100 000, BTC
and ETH outside their 5-point bands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trimtab.domain import MarketSnapshot, Portfolio, Side
from trimtab.planner import PlanContext, make_plan
from trimtab.planner.flows import steer_goals
from trimtab.policy.bands import Band
from trimtab.policy.config import Policy
from trimtab.session import RebalancingSession

CLASSES: tuple[dict[str, Any], ...] = (
    {"name": "BTC", "assets": ["BTC"], "target": 0.4, "band": 0.05},
    {"name": "ETH", "assets": ["ETH"], "target": 0.3, "band": 0.05},
    {"name": "SOL", "assets": ["SOL"], "target": 0.1, "band": 0.05},
    {"name": "STABLE", "assets": ["USDT"], "target": 0.2, "band": 0.05, "cash": True},
)
PRICES = {"BTC": 50_000.0, "ETH": 2_500.0, "SOL": 100.0}


def _book(portfolio_of: Callable[..., Portfolio], usdt: float) -> Portfolio:
    return portfolio_of({"BTC": 0.6, "ETH": 16.0, "SOL": 50.0, "USDT": usdt})


def test_a_deposit_into_a_book_outside_its_bands_buys_only_the_underweights_pro_rata_to_their_shortfall(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
) -> None:
    # Deposit 20 000: equity 120 000. Goals in money: BTC 48 000 (short 18 000), ETH 36 000 (over: 0),
    # SOL 12 000 (short 7 000), USDT 24 000 (held 25 000 before the deposit: over, 0). Shortfalls 25 000:
    # BTC gets 20 000 x 18/25 = 14 400, SOL 20 000 x 7/25 = 5 600; ETH, breached above, is not sold.
    plan = make_plan(_book(portfolio_of, 45_000.0), market_of(PRICES), policy_of(CLASSES), PlanContext(flow=20_000.0))
    assert plan.triggered
    assert "deposit of 20000.00 USDT" in (plan.trigger_reason or "")
    trades = {t.symbol: t for t in plan.trades}
    assert set(trades) == {"BTC/USDT", "SOL/USDT"}
    assert all(t.side is Side.BUY for t in plan.trades)
    assert trades["BTC/USDT"].notional == pytest.approx(14_400.0)
    assert trades["BTC/USDT"].amount == pytest.approx(0.288)
    assert trades["SOL/USDT"].notional == pytest.approx(5_600.0)
    assert trades["SOL/USDT"].amount == pytest.approx(56.0)
    goals = {c.name: c.goal for c in plan.classes}
    assert goals == pytest.approx(
        {"BTC": 44_400 / 120_000, "ETH": 40_000 / 120_000, "SOL": 10_600 / 120_000, "STABLE": 25_000 / 120_000}
    )


def test_a_withdrawal_sells_only_the_overweights_pro_rata_to_their_excess(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
) -> None:
    # Withdraw 10 000 (already gone from USDT: 15 000 left): equity 90 000. Goals: BTC 36 000 (under),
    # ETH 27 000 (over by 13 000), SOL 9 000 (under), USDT 18 000 (25 000 before: over by 7 000). Excesses
    # 20 000: ETH sells 10 000 x 13/20 = 6 500; the cash class gives 3 500 (no trade).
    plan = make_plan(_book(portfolio_of, 15_000.0), market_of(PRICES), policy_of(CLASSES), PlanContext(flow=-10_000.0))
    (trade,) = plan.trades
    assert trade.symbol == "ETH/USDT" and trade.side is Side.SELL
    assert trade.notional == pytest.approx(6_500.0)
    assert trade.amount == pytest.approx(2.6)


def test_the_shares_of_a_deposit_sum_to_it_and_no_class_passes_its_target() -> None:
    bands = {
        "A": Band(0.5, 0.05),
        "B": Band(0.3, 0.05),
        "CASH": Band(0.2, 0.05),
    }
    # After a deposit of 10 (equity 100): A 0.40, B 0.40, CASH 0.20 (0.10 before the deposit).
    goals = steer_goals({"A": 0.4, "B": 0.4, "CASH": 0.2}, bands, "CASH", 10.0, 100.0)
    # Shortfalls: A 0.10, B 0, CASH 0.10; the deposit (0.10) splits 0.05 / 0.05.
    assert goals.goals == pytest.approx({"A": 0.45, "B": 0.4, "CASH": 0.15})
    assert goals.moving == ("A",)


def test_the_session_steers_a_pending_flow_once_and_keeps_it_while_blocked(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
) -> None:
    session = RebalancingSession(policy_of(CLASSES, trigger={"kind": "calendar", "every": "7d"}))
    session.add_flow(20_000.0, seen=3)
    book, market = _book(portfolio_of, 45_000.0), market_of(PRICES)
    blocked = session.decide(book, market)
    assert blocked.flow == 20_000.0 and len(blocked.trades) == 2
    session.close(blocked, carried_out=False, equity_after=120_000.0, held=())
    assert session.state.pending_flow == 20_000.0
    decision = session.decide(book, market)
    state = session.close(decision, carried_out=True, equity_after=120_000.0, held=())
    assert state.pending_flow == 0.0 and state.flows_seen == 3
    # The steered flow is not the calendar's rebalance: its pace is kept.
    assert state.last_rebalance is None and state.last_check is None
    assert session.decide(book, market).flow == 0.0
