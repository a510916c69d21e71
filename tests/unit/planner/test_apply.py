"""apply_plan / apply_trades: spot accounting, fees, averaging entries, realised PnL, inverse contracts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trimtab.domain import AssetClass, InstrumentKind, MarketRules, MarketSnapshot, Portfolio, Side, Trade
from trimtab.planner import apply_plan, apply_trades, make_plan
from trimtab.policy.config import Policy
from trimtab.valuation import valuate

CLASSES = (
    AssetClass("BTC", ("BTC",), 0.5, {"BTC": 1.0}, band=0.05),
    AssetClass("STABLE", ("USDT",), 0.5, {"USDT": 1.0}, band=0.05, cash=True),
)


def perp(side: Side, amount: float, mark: float, reduce_only: bool = False, symbol: str = "BTC/USDT:USDT") -> Trade:
    return Trade("BTC", symbol, InstrumentKind.PERP, side, amount, amount * mark, mark, reduce_only=reduce_only)


def test_spot_sale_credits_proceeds_and_pays_the_fee_in_the_base_currency(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> None:
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 42000.0})
    market = market_of({"BTC": 58000.0})
    trade = Trade("BTC", "BTC/USDT", InstrumentKind.SPOT, Side.SELL, 0.1, 5800.0, 58000.0)
    after = apply_trades(portfolio, [trade], market, taker_fee=0.001)
    assert after.spot_amount("BTC") == pytest.approx(0.9)
    assert after.spot_amount("USDT") == pytest.approx(42000.0 + 5800.0 - 5.8)
    assert portfolio.spot_amount("BTC") == 1.0  # the input is unchanged


def test_spot_purchase_of_a_new_asset_adds_a_holding(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> None:
    portfolio = portfolio_of({"USDT": 10000.0})
    trade = Trade("ETH", "ETH/USDT", InstrumentKind.SPOT, Side.BUY, 2.0, 6000.0, 3000.0)
    after = apply_trades(portfolio, [trade], market_of({"ETH": 3000.0}), taker_fee=0.001)
    assert after.spot_amount("ETH") == 2.0
    assert after.spot_amount("USDT") == pytest.approx(10000.0 - 6000.0 - 6.0)


def test_adding_to_a_position_averages_its_entry_and_keeps_equity(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> None:
    portfolio = portfolio_of({"USDT": 50000.0}, [("BTC/USDT:USDT", 1.0, 50000.0, 3.0)])
    market = market_of({"BTC": 60000.0}, {"BTC/USDT:USDT": (60000.0, 0.0)})
    after = apply_trades(portfolio, [perp(Side.BUY, 1.0, 60000.0)], market, taker_fee=0.0)
    (position,) = after.derivatives
    assert position.amount == 2.0
    assert position.entry_price == pytest.approx(55000.0)
    assert position.leverage == 3.0
    before_equity = valuate(portfolio, market, CLASSES).equity
    assert valuate(after, market, CLASSES).equity == pytest.approx(before_equity)


def test_reducing_a_position_realises_its_pnl_into_the_settlement_currency(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> None:
    portfolio = portfolio_of({"USDT": 50000.0}, [("BTC/USDT:USDT", 1.0, 50000.0, 3.0)])
    market = market_of({"BTC": 60000.0}, {"BTC/USDT:USDT": (60000.0, 0.0)})
    after = apply_trades(portfolio, [perp(Side.SELL, 0.5, 60000.0, True)], market, taker_fee=0.001)
    (position,) = after.derivatives
    assert position.amount == 0.5
    assert position.entry_price == 50000.0
    assert after.spot_amount("USDT") == pytest.approx(50000.0 + 5000.0 - 30.0)
    before_equity = valuate(portfolio, market, CLASSES).equity
    assert valuate(after, market, CLASSES).equity == pytest.approx(before_equity - 30.0)


def test_an_order_through_zero_closes_and_opens_at_the_mark(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> None:
    portfolio = portfolio_of({"USDT": 50000.0}, [("BTC/USDT:USDT", 1.0, 50000.0, 3.0)])
    market = market_of({"BTC": 60000.0}, {"BTC/USDT:USDT": (60000.0, 0.0)})
    after = apply_trades(portfolio, [perp(Side.SELL, 1.5, 60000.0)], market, taker_fee=0.0)
    (position,) = after.derivatives
    assert position.amount == pytest.approx(-0.5)
    assert position.entry_price == 60000.0
    assert after.spot_amount("USDT") == pytest.approx(60000.0)


def test_closing_a_position_removes_it_and_a_new_one_takes_the_hedge_leverage(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> None:
    portfolio = portfolio_of({"USDT": 50000.0}, [("BTC/USDT:USDT", 1.0, 50000.0, 3.0)])
    market = market_of({"BTC": 60000.0, "ETH": 3000.0}, {"BTC/USDT:USDT": (60000.0, 0.0), "ETH/USDT:USDT": (3000.0, 0)})
    trades = [perp(Side.SELL, 1.0, 60000.0, True), perp(Side.SELL, 2.0, 3000.0, symbol="ETH/USDT:USDT")]
    after = apply_trades(portfolio, trades, market, taker_fee=0.0, hedge_leverage=2.0)
    (position,) = after.derivatives
    assert position.symbol == "ETH/USDT:USDT"
    assert (position.amount, position.entry_price, position.leverage) == (-2.0, 3000.0, 2.0)


def test_inverse_reduction_realises_pnl_in_coins(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> None:
    classes = (
        AssetClass("BTC", ("BTC",), 0.5, {"BTC": 1.0}, band=0.05, hedge="BTC/USD:BTC"),
        CLASSES[1],
    )
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 10000.0}, [("BTC/USD:BTC", -100.0, 50000.0, 2.0)])
    market = market_of(
        {"BTC": 40000.0},
        {"BTC/USD:BTC": (40000.0, 0.0)},
        rules={"BTC/USD:BTC": MarketRules(contract_size=100.0)},
    )
    trade = Trade("BTC", "BTC/USD:BTC", InstrumentKind.PERP, Side.BUY, 50.0, 5000.0, 40000.0, reduce_only=True)
    after = apply_trades(portfolio, [trade], market, taker_fee=0.0)
    # The short of 5,000 USD gained 5,000 x (1/40,000 - 1/50,000) = 0.025 BTC on the half closed.
    assert after.spot_amount("BTC") == pytest.approx(1.025)
    (position,) = after.derivatives
    assert position.amount == -50.0
    before = valuate(portfolio, market, classes).equity
    assert valuate(after, market, classes).equity == pytest.approx(before)


def test_apply_plan_reaches_the_plans_post_trade_weights(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    portfolio = portfolio_of(
        {"BTC": 2.2, "ETH": 40.0, "SOL": 250.0, "AVAX": 1000.0, "LINK": 2000.0, "USDT": 60000.0},
        [("ETH/USDT:USDT", -5.0, 2900.0, 2.0)],
    )
    market = market_of(
        {"BTC": 100000.0, "ETH": 3000.0, "SOL": 160.0, "AVAX": 30.0, "LINK": 15.0},
        {"ALTS/USDT:USDT": (100.0, 0.0001), "ETH/USDT:USDT": (3000.0, 0.0001), "BTC/USDT:USDT": (100000.0, 0.0)},
    )
    policy = policy_of(four_classes, instrument="perp", hedge_leverage=3.0)
    plan = make_plan(portfolio, market, policy)
    assert plan.trades
    after = apply_plan(portfolio, plan, market, policy)
    valuation = valuate(after, market, policy.asset_classes())
    assert valuation.weights == pytest.approx(plan.post_trade)
    assert valuation.equity == pytest.approx(plan.equity - plan.costs.fees)


def test_an_option_purchase_pays_its_premium_and_keeps_equity(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> None:
    symbol = "BTC/USDT:USDT-261225-70000-C"
    portfolio = portfolio_of({"USDT": 10000.0})
    market = market_of({"BTC": 58000.0}, {symbol: (1450.0, 0.0)})
    trade = Trade("BTC", symbol, InstrumentKind.OPTION, Side.BUY, 2.0, 2900.0, 1450.0)
    after = apply_trades(portfolio, [trade], market, taker_fee=0.0)
    assert after.spot_amount("USDT") == pytest.approx(10000.0 - 2900.0)
    (position,) = after.derivatives
    assert (position.amount, position.entry_price) == (2.0, 1450.0)
    # Selling one back receives its premium; equity stays the same without fees.
    back = Trade("BTC", symbol, InstrumentKind.OPTION, Side.SELL, 1.0, 1450.0, 1450.0)
    again = apply_trades(after, [back], market, taker_fee=0.0)
    assert again.spot_amount("USDT") == pytest.approx(10000.0 - 1450.0)
    assert valuate(again, market, CLASSES).equity == pytest.approx(10000.0)


def test_a_linear_perp_settled_in_another_stablecoin_realises_pnl_there(
    portfolio_of: Callable[..., Portfolio], market_of: Callable[..., MarketSnapshot]
) -> None:
    classes = (
        CLASSES[0],
        AssetClass("STABLE", ("USDT", "USDC"), 0.5, {"USDT": 0.5, "USDC": 0.5}, band=0.05, cash=True),
    )
    portfolio = portfolio_of({"USDT": 50000.0, "USDC": 0.0}, [("BTC/USDC:USDC", 1.0, 50000.0, 3.0)])
    market = market_of({"BTC": 60000.0, "USDC": 0.999}, {"BTC/USDC:USDC": (60000.0, 0.0)})
    trade = perp(Side.SELL, 1.0, 60000.0, True, symbol="BTC/USDC:USDC")
    after = apply_trades(portfolio, [trade], market, taker_fee=0.0)
    assert after.derivatives == ()
    assert after.spot_amount("USDC") == pytest.approx(10000.0)
    before = valuate(portfolio, market, classes).equity
    assert valuate(after, market, classes).equity == pytest.approx(before)
