"""The contract's worked examples, which must come out exactly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trimtab.domain import InstrumentKind, MarketSnapshot, Portfolio, Side
from trimtab.planner import make_plan
from trimtab.policy.config import Policy


def example_a(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> tuple[Portfolio, MarketSnapshot]:
    """Equity 100,000: BTC 1.0 at 58,000 (58 %), USDT 42,000."""
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 42000.0})
    market = market_of({"BTC": 58000.0}, {"BTC/USDT:USDT": (58000.0, 0.0001)})
    return portfolio, market


def test_example_a_spot_sells_8000_of_btc(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    portfolio, market = example_a(portfolio_of, market_of)
    plan = make_plan(portfolio, market, policy_of(btc_stable, instrument="spot"))
    assert plan.equity == 100000.0
    assert plan.triggered
    (trade,) = plan.trades
    assert trade.symbol == "BTC/USDT"
    assert trade.instrument is InstrumentKind.SPOT
    assert trade.side is Side.SELL
    assert trade.amount == 8000.0 / 58000.0
    assert trade.notional == 8000.0
    assert plan.costs.fees == 8.0
    assert plan.costs.slippage == 4.0
    assert plan.costs.funding_per_day == 0.0
    btc = plan.classes[0]
    assert (btc.name, btc.target, btc.weight, btc.net_exposure, btc.breached, btc.goal) == (
        "BTC",
        0.5,
        0.58,
        58000.0,
        True,
        0.5,
    )
    assert abs(btc.lower - 0.45) < 1e-15 and abs(btc.upper - 0.55) < 1e-15
    # 50,000 of BTC over 99,992 of equity after the 8.0 fee.
    assert abs(plan.post_trade["BTC"] - 50000.0 / 99992.0) < 1e-12
    assert plan.margin.ok
    # The report shows the book as it is (the contract's example: 42,000 of free collateral) and, under
    # `after`, the book once the plan is done: 42,000 + 8,000 of sale - 8.0 of fee.
    assert plan.margin.free_collateral == 42000.0 and plan.margin.initial == 0.0
    assert plan.margin.final.free_collateral == 49992.0


def test_example_a_perp_sells_the_perp_and_leaves_spot_untouched(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    portfolio, market = example_a(portfolio_of, market_of)
    plan = make_plan(portfolio, market, policy_of(btc_stable, instrument="perp"))
    (trade,) = plan.trades
    assert trade.symbol == "BTC/USDT:USDT"
    assert trade.instrument is InstrumentKind.PERP
    assert trade.side is Side.SELL
    assert trade.notional == 8000.0
    assert trade.amount == 8000.0 / 58000.0
    assert not trade.reduce_only
    assert plan.costs.fees == 8.0
    assert plan.costs.slippage == 4.0
    # The new short receives 0.01 % three times a day on 8,000.
    assert abs(plan.costs.funding_per_day - (-2.4)) < 1e-12
    assert plan.margin.initial == 0.0
    assert plan.margin.final.initial == 8000.0
    assert plan.margin.ok


def test_example_b_breached_scope_perp_opens_one_25000_index_short(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    # Equity 500,000: BTC 40 %, ETH 30 %, altcoins 20 % (SOL, AVAX, LINK), stables 10 %.
    portfolio = portfolio_of({"BTC": 2.0, "ETH": 50.0, "SOL": 250.0, "AVAX": 1000.0, "LINK": 2000.0, "USDT": 50000.0})
    market = market_of(
        {"BTC": 100000.0, "ETH": 3000.0, "SOL": 160.0, "AVAX": 30.0, "LINK": 15.0},
        {"ALTS/USDT:USDT": (100.0, 0.0001)},
    )
    # Under the policy's defaults (hedge leverage 1, buffer 50 %): after the short the cash class is worth
    # 75,000 - 25 of fee; minus 25,000 of initial margin leaves 49,975 >= 1.5 x 25,000, so the trade stays whole.
    policy = policy_of(four_classes, instrument="perp", scope="breached")
    plan = make_plan(portfolio, market, policy)
    assert plan.equity == 500000.0
    assert [c.breached for c in plan.classes] == [False, False, True, True]
    (trade,) = plan.trades
    assert trade.class_name == "ALTS"
    assert trade.symbol == "ALTS/USDT:USDT"
    assert trade.instrument is InstrumentKind.PERP
    assert trade.side is Side.SELL
    assert trade.notional == 25000.0
    assert trade.amount == 250.0
    assert plan.margin.ok
    assert plan.margin.free_collateral == 50000.0 and plan.margin.initial == 0.0
    assert plan.margin.final.initial == 25000.0
    assert plan.margin.final.free_collateral == pytest.approx(50000.0 - 25.0 - 25000.0)
    assert [c.goal for c in plan.classes][:3] == [0.4, 0.3, 0.15]
    assert abs(plan.post_trade["STABLE"] - (1.0 - 425000.0 / (500000.0 - 25.0))) < 1e-12
