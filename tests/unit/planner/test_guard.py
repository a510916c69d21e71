"""The margin guard: cuts new derivative exposure until each account's buffer and the leverage limits hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trimtab.domain import MarketSnapshot, Portfolio
from trimtab.planner import make_plan
from trimtab.policy.config import Policy


@pytest.fixture
def alts_book(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> tuple[Portfolio, MarketSnapshot]:
    """Example (b)'s book: equity 500,000, altcoins at 20 %, 50,000 of stables."""
    portfolio = portfolio_of({"BTC": 2.0, "ETH": 50.0, "SOL": 250.0, "AVAX": 1000.0, "LINK": 2000.0, "USDT": 50000.0})
    market = market_of(
        {"BTC": 100000.0, "ETH": 3000.0, "SOL": 160.0, "AVAX": 30.0, "LINK": 15.0},
        {"ALTS/USDT:USDT": (100.0, 0.0001)},
    )
    return portfolio, market


def test_short_cut_down_until_free_collateral_covers_the_buffer(
    alts_book: tuple[Portfolio, MarketSnapshot],
    policy_of: Callable[..., Policy],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    portfolio, market = alts_book
    # At leverage 1 a short x needs x of margin; the account's collateral is its 50,000 USDT less the fee
    # (the short's notional is not collateral): free = 50,000 - 0.001 x - x >= 3 x  ->  x <= 50,000 / 4.001.
    policy = policy_of(four_classes, instrument="perp", scope="breached", margin_buffer=3.0)
    plan = make_plan(portfolio, market, policy)
    (trade,) = plan.trades
    assert trade.notional == pytest.approx(50000.0 / 4.001, rel=1e-6)
    assert trade.notional <= 50000.0 / 4.001
    assert plan.margin.ok
    assert plan.margin.final.free_collateral >= plan.margin.final.required
    assert plan.margin.final.required == pytest.approx(3.0 * plan.margin.final.initial)
    (account,) = plan.margin.accounts
    assert account.ok and account.collateral >= 4.0 * account.initial * (1 - 1e-9)
    expected = "margin guard: account default: free collateral 24975.00 < 3 x initial margin 25000.00"
    assert any(note.startswith(expected) for note in plan.notes)


def test_short_cut_down_to_respect_max_leverage(
    alts_book: tuple[Portfolio, MarketSnapshot],
    policy_of: Callable[..., Policy],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    portfolio, market = alts_book
    policy = policy_of(four_classes, instrument="perp", scope="breached", hedge_leverage=3.0, max_leverage=0.95)
    plan = make_plan(portfolio, market, policy)
    (trade,) = plan.trades
    # Gross 450,000 + x over equity 500,000 - 0.001 x must stay <= 0.95.
    assert trade.notional == pytest.approx(25000.0 / 1.00095, rel=1e-6)
    assert plan.margin.final.gross_leverage <= 0.95
    assert plan.margin.ok
    assert any("gross leverage" in note and "> max_leverage 0.95" in note for note in plan.notes)


def test_openings_are_dropped_when_even_none_cannot_satisfy_the_limits(
    alts_book: tuple[Portfolio, MarketSnapshot],
    policy_of: Callable[..., Policy],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    portfolio, market = alts_book
    policy = policy_of(four_classes, instrument="perp", scope="breached", hedge_leverage=3.0, max_leverage=0.8)
    plan = make_plan(portfolio, market, policy)
    assert plan.trades == ()
    assert not plan.margin.ok
    assert any("even without new derivative exposure" in note for note in plan.notes)


def test_guard_leaves_a_plan_within_limits_untouched(
    alts_book: tuple[Portfolio, MarketSnapshot],
    policy_of: Callable[..., Policy],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    portfolio, market = alts_book
    plan = make_plan(
        portfolio, market, policy_of(four_classes, instrument="perp", scope="breached", hedge_leverage=2.0)
    )
    (trade,) = plan.trades
    assert trade.notional == 25000.0
    assert not any("margin guard" in note for note in plan.notes)
