"""A class whose hedge has expired trades spot, and the plan's notes say the hedge expired."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trimtab.domain import MarketSnapshot, Portfolio
from trimtab.planner import make_plan
from trimtab.policy.config import Policy


def test_a_hedge_that_expired_before_the_snapshot_is_replaced_by_spot_with_a_note(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    # The snapshot is taken on 2026-11-21; the September quarterly expired on 2026-09-25 at 08:00 UTC.
    classes = [dict(btc_stable[0], hedge="BTC/USDT:USDT-260925"), dict(btc_stable[1])]
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 42000.0})
    market = market_of({"BTC": 58000.0}, {"BTC/USDT:USDT-260925": (58000.0, 0.0)})  # a stale quote left in the file
    plan = make_plan(portfolio, market, policy_of(classes, instrument="perp"))
    (trade,) = plan.trades
    assert trade.symbol == "BTC/USDT" and trade.side.value == "sell"
    assert any("hedge BTC/USDT:USDT-260925 expired at 2026-09-25 08:00 UTC" in note for note in plan.notes)
