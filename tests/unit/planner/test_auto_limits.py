"""``auto`` takes no hedge that margin cannot carry or that would open inside the liquidation buffer.

Margin and liquidation risk are limits on ``auto``'s choice (the contract's "within what the account's margin
can carry"), not terms of its cost. Expected figures are worked out by hand in each test.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from trimtab.domain import DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.plan import Plan
from trimtab.planner import PlanContext, make_plan
from trimtab.planner.hedge_limits import volatility_buffer
from trimtab.policy.config import Policy

from .conftest import BTC_STABLE, NOW, build_market, build_policy, build_portfolio

BTC_PERP, ETH_PERP = "BTC/USDT:USDT", "ETH/USDT:USDT"


def _auto_note(plan: Plan, name: str) -> str:
    (note,) = [n for n in plan.notes if n.startswith(f"auto: {name} ")]
    return note


def test_a_hedge_the_margin_cannot_carry_is_refused_and_the_class_sold_spot() -> None:
    # BTC 1.0 at 58 000 and 2 000 USDT: equity 60 000, BTC 96.7 % against 50 %: 28 000 of exposure to shed.
    # Spot costs 28 000 x 0.15 % = 42; the short hedge 84 to open and close less 28 000 x 0.09 % x 7 = 176.40
    # of funding: -92.40, cheaper. At 1x it needs 28 000 of initial margin with free collateral >= 0.5 x that,
    # from 2 000 of collateral: the guard would keep (2 000 - 0.001 N) - N >= 0.5 N, N = 1 332.45 of 28 000.
    policy = build_policy(BTC_STABLE, instrument="auto", hedge_leverage=1.0)
    portfolio = build_portfolio({"BTC": 1.0, "USDT": 2_000.0})
    market = build_market({"BTC": 58_000.0}, {BTC_PERP: (58_000.0, 0.0003)})
    plan = make_plan(portfolio, market, policy)
    (trade,) = plan.trades
    assert (trade.symbol, trade.side.value) == ("BTC/USDT", "sell")
    assert trade.notional == pytest.approx(28_000.0, rel=1e-9)
    note = _auto_note(plan, "BTC")
    assert note.startswith(
        "auto: BTC uses spot: the hedge BTC/USDT:USDT costs less but is refused, the accounts' margin cannot carry "
        "it at hedge_leverage 1 (the margin guard would cut the new derivative exposure to 4.76 %"
    )
    assert "hedge cost -92.40 (fees and slippage to open and close 84.00, funding -176.40 over 7 days)" in note
    assert "vs spot cost 42.00 for 28000.00 of exposure" in note
    assert plan.post_trade["BTC"] == pytest.approx(0.5, abs=1e-3)
    # The same book under instrument = "perp" keeps the cut hedge: 1 332.45 / 28 000 = 4.76 %.
    perp = make_plan(portfolio, market, build_policy(BTC_STABLE, instrument="perp", hedge_leverage=1.0))
    (hedge,) = perp.trades
    assert hedge.notional == pytest.approx(2_000.0 / 1.501, rel=1e-6)


def test_where_margin_carries_one_hedge_of_two_the_one_that_saves_more_is_kept() -> None:
    # Equity 100 000: BTC 50 % (target 40), ETH 40 % (target 30), 10 000 USDT. Each sheds 10 000 of exposure.
    # Spot costs 15 each. BTC's hedge: 30 - 63 of funding (0.03 % per 8 h) = -33, saving 48; ETH's: 30 - 21 = 9,
    # saving 6. At 2x both need 10 000 of margin from 10 000 of collateral: the guard would keep
    # 10 000 - 0.001 x 20 000 s - 10 000 s >= 0.5 x 10 000 s, s = 66.6 %, 13 316 of the 20 000: BTC's fits.
    classes = (
        {"name": "BTC", "assets": ["BTC"], "target": 0.4, "band": 0.05, "hedge": BTC_PERP},
        {"name": "ETH", "assets": ["ETH"], "target": 0.3, "band": 0.05, "hedge": ETH_PERP},
        {"name": "CASH", "assets": ["USDT"], "target": 0.3, "band": 0.05, "cash": True},
    )
    policy = build_policy(classes, instrument="auto", hedge_leverage=2.0)
    portfolio = build_portfolio({"BTC": 50_000.0 / 58_000.0, "ETH": 40_000.0 / 3_000.0, "USDT": 10_000.0})
    market = build_market(
        {"BTC": 58_000.0, "ETH": 3_000.0}, {BTC_PERP: (58_000.0, 0.0003), ETH_PERP: (3_000.0, 0.0001)}
    )
    plan = make_plan(portfolio, market, policy)
    by_class = {t.class_name: t for t in plan.trades}
    assert (by_class["BTC"].symbol, by_class["BTC"].notional) == (BTC_PERP, pytest.approx(10_000.0, rel=1e-9))
    assert (by_class["ETH"].symbol, by_class["ETH"].notional) == ("ETH/USDT", pytest.approx(10_000.0, rel=1e-9))
    assert _auto_note(plan, "BTC").startswith("auto: BTC uses BTC/USDT:USDT: hedge cost -33.00")
    eth = _auto_note(plan, "ETH")
    assert "the hedge ETH/USDT:USDT costs less but is refused, the accounts' margin cannot carry it" in eth
    assert "to 66.58 %" in eth
    assert plan.margin.ok


def _isolated_book() -> Portfolio:
    """BTC 1.0 and 38 000 USDT on an isolated derivatives account: BTC 60.4 % of 96 000, 10 000 to shed."""
    account = Account("perps", "binance", AccountKind.DERIVATIVES, MarginMode.ISOLATED, {"USDT": 1.0})
    spot = (SpotHolding("BTC", 1.0, "perps"), SpotHolding("USDT", 38_000.0, "perps"))
    return Portfolio("USDT", spot, (), (account,))


def _btc_market() -> MarketSnapshot:
    return MarketSnapshot(NOW, {"USDT": 1.0, "BTC": 58_000.0}, {BTC_PERP: DerivativeQuote(58_000.0, 0.0003, 8.0)})


def _isolated_plan(leverage: float, buffers: float | Mapping[str, float] | None = None) -> Plan:
    policy: Policy = build_policy(BTC_STABLE, instrument="auto", hedge_leverage=leverage, max_leverage=20.0)
    context = PlanContext() if buffers is None else PlanContext(liquidation_buffers=buffers)
    return make_plan(_isolated_book(), _btc_market(), policy, context)


@pytest.mark.parametrize(("leverage", "distance"), [(10.0, 1.1 / 1.005 - 1.0), (5.0, 1.2 / 1.005 - 1.0)])
def test_a_hedge_that_would_open_inside_the_default_buffer_is_refused(leverage: float, distance: float) -> None:
    # An isolated short at L is liquidated where its margin 1/L of the entry plus its PnL meets the 0.5 %
    # maintenance: P = entry x (1 + 1/L) / 1.005, 9.45 % away at 10x (inside the 10 % buffer), 19.40 % at 5x.
    plan = _isolated_plan(leverage)
    (trade,) = plan.trades
    note = _auto_note(plan, "BTC")
    if distance < 0.10:
        assert trade.symbol == "BTC/USDT"
        assert (
            f"refused, it would open {distance:.1%} from its liquidation price, inside the liquidation buffer of "
            "10.0%" in note
        )
        return
    assert trade.symbol == BTC_PERP
    assert trade.notional == pytest.approx(10_000.0, rel=1e-9)
    (position,) = plan.positions
    assert position.liquidation_distance == pytest.approx(distance, rel=1e-9)
    assert "refused" not in note


def test_the_buffer_widens_with_the_assets_volatility_over_the_check_interval() -> None:
    # The session's buffer: max(10 %, 3 sigmas of a day's move). At 160 % a year: 3 x 1.6 x sqrt(1/365) = 25.1 %,
    # so the 5x short, 19.40 % from liquidation, is refused; at 60 %: 9.4 %, the fixed 10 % holds and it opens.
    wild = volatility_buffer(0.10, 3.0, 1.6, 1.0)
    calm = volatility_buffer(0.10, 3.0, 0.6, 1.0)
    assert wild == pytest.approx(3 * 1.6 / 365**0.5, rel=1e-12)
    assert calm == 0.10
    assert _isolated_plan(5.0, {BTC_PERP: wild}).trades[0].symbol == "BTC/USDT"
    assert "inside the liquidation buffer of 25.1%" in _auto_note(_isolated_plan(5.0, {BTC_PERP: wild}), "BTC")
    assert _isolated_plan(5.0, {BTC_PERP: calm}).trades[0].symbol == BTC_PERP
    # A buffer of 0 turns the limit off: even the 10x short opens.
    assert _isolated_plan(10.0, 0.0).trades[0].symbol == BTC_PERP


def test_perp_mode_is_not_refused_by_the_liquidation_buffer() -> None:
    # The limit is auto's: instrument = "perp" trades the hedge (the session's ladder then guards it).
    policy = build_policy(BTC_STABLE, instrument="perp", hedge_leverage=10.0, max_leverage=20.0)
    plan = make_plan(_isolated_book(), _btc_market(), policy)
    assert [t.symbol for t in plan.trades] == [BTC_PERP]
