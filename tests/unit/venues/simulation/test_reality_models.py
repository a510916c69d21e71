"""The simulated exchange's reality models: fees, slippage, funding, margin and the account's fills."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from trimtab.domain.instruments import parse_symbol
from trimtab.domain.market import DerivativeQuote, MarketSnapshot
from trimtab.venues.simulation import (
    ConstantSlippage,
    FeeModel,
    FundingModel,
    Liquidity,
    RealityModels,
    SimulatedAccount,
    SquareRootImpact,
)
from trimtab.venues.simulation.slippage import BarConditions

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_fees_are_a_rate_of_notional_with_a_maker_rebate() -> None:
    fees = FeeModel(taker=0.001, maker=-0.0001)
    assert fees.fee(-5000.0) == pytest.approx(5.0)
    assert fees.fee(5000.0, Liquidity.MAKER) == pytest.approx(-0.5)


def test_square_root_impact_adds_to_the_half_spread_and_is_capped() -> None:
    model = SquareRootImpact(half_spread_bps=5.0, impact=1.0, max_fraction=0.05)
    bar = BarConditions(volume_quote=1_000_000.0, sigma_bar=0.02)
    # 10,000 of a 1,000,000 bar: sqrt(0.01) = 0.1, x 2 % volatility = 20 bps, plus 5 bps.
    assert model.fraction(10_000.0, bar) == pytest.approx(0.0005 + 0.002)
    assert model.fraction(10_000.0, BarConditions()) == pytest.approx(0.0005)  # no volume known
    assert model.fraction(1e12, bar) == 0.05
    assert not model.constant and ConstantSlippage(3.0).constant


def test_funding_is_rate_times_amount_times_mark_and_shorts_receive_a_positive_rate() -> None:
    assert FundingModel().payment(-2.0, 50_000.0, 0.0001) == pytest.approx(-10.0)
    account = SimulatedAccount("USDT", RealityModels(fees=FeeModel(0.0, 0.0)), {"USDT": 10_000.0})
    account.fill("BTC/USDT:USDT", -0.1, 50_000.0)
    paid = account.accrue_funding("BTC/USDT:USDT", 0.0003, 51_000.0)
    assert paid == pytest.approx(-0.1 * 51_000.0 * 0.0003)
    assert account.cash == pytest.approx(10_000.0 + 0.1 * 51_000.0 * 0.0003)


def test_spot_fills_pay_slippage_in_the_price_and_the_fee_on_the_filled_value() -> None:
    models = RealityModels(fees=FeeModel(0.001, 0.0), slippage=ConstantSlippage(10.0))
    account = SimulatedAccount("USDT", models, {"USDT": 1000.0})
    report = account.fill("BTC/USDT", 0.01, 50_000.0)
    assert report.price == pytest.approx(50_050.0)
    assert report.slippage == pytest.approx(0.5)
    assert report.fee == pytest.approx(0.50050)
    assert account.balances["BTC"] == 0.01
    assert account.cash == pytest.approx(1000.0 - 500.5 - 0.5005)


def test_perp_entry_averages_up_and_a_reduction_realises_pnl() -> None:
    account = SimulatedAccount("USDT", RealityModels(fees=FeeModel(0.0, 0.0)), {"USDT": 1000.0})
    account.fill("ETH/USDT:USDT", 1.0, 2000.0, leverage=5)
    account.fill("ETH/USDT:USDT", 1.0, 2200.0)
    position = account.positions["ETH/USDT:USDT"]
    assert position.entry_price == pytest.approx(2100.0) and position.leverage == 5
    report = account.fill("ETH/USDT:USDT", -1.5, 2300.0)
    assert report.realised_pnl == pytest.approx(1.5 * 200.0)
    assert account.cash == pytest.approx(1300.0)
    assert account.equity({}, {"ETH/USDT:USDT": 2400.0}) == pytest.approx(1300.0 + 0.5 * 300.0)
    flipped = account.fill("ETH/USDT:USDT", -1.0, 2000.0)
    assert flipped.realised_pnl == pytest.approx(0.5 * -100.0)
    assert account.positions["ETH/USDT:USDT"].amount == pytest.approx(-0.5)
    assert account.positions["ETH/USDT:USDT"].entry_price == 2000.0


def test_an_undeclared_account_is_unified_and_cross_and_liquidated_where_its_collateral_is_gone() -> None:
    # The contract's default account: its collateral is the base currency at 1.0 plus the unrealised PnL.
    # By hand: 100 USDT, a 10 BTC long opened at 100 paying 0.05 % (0.5), so 99.5 of cash; it is
    # liquidated where 99.5 + 10 x (P - 100) = 0.005 x 10 x P, P = 900.5 / 9.95 = 90.5025 (an isolated
    # 10x long would go at 100 x 0.9 / 0.995 = 90.4523, from its own 100 of margin).
    account = SimulatedAccount("USDT", RealityModels(fees=FeeModel(0.0005, 0.0)), {"USDT": 100.0})
    account.fill("BTC/USDT:USDT", 10.0, 100.0, leverage=10, slippage_fraction=0.0)
    assert account.to_portfolio().accounts[0].margin_mode.value == "cross"
    price = 900.5 / 9.95
    market = MarketSnapshot(NOW, {"BTC": 100.0}, {"BTC/USDT:USDT": DerivativeQuote(mark=100.0)})
    assert account.check_liquidations({"BTC/USDT:USDT": (90.51, 101.0)}, market) == []
    (liquidation,) = account.check_liquidations({"BTC/USDT:USDT": (90.0, 96.0)}, market)
    assert liquidation.price == pytest.approx(price, rel=1e-12)
    assert liquidation.realised_pnl == pytest.approx(10.0 * (price - 100.0))
    assert "BTC/USDT:USDT" not in account.positions
    # What is left: the cash less the loss and the taker fee on the close, 0.005 x 10 x P less that fee.
    assert math.isclose(account.cash, 99.5 + 10.0 * (price - 100.0) - 0.0005 * 10.0 * price)
    assert account.cash == pytest.approx(0.0045 * 10.0 * price)


def test_a_liquidation_in_a_cross_account_moves_the_others_liquidation_price() -> None:
    # Two longs share 2 000 USDT. By hand (flat 0.5 %, no fees): BTC alone, ETH at its mark 100, is
    # liquidated where 2 000 + 1 x (P - 10 000) = 0.005 P + 0.005 x 100 x 100, P = 8 050 / 0.995 = 8 090.45.
    # Closed there, the cash is 2 000 - 1 909.55 = 90.45 and ETH's price solves
    # 90.45 + 100 x (Q - 100) = 0.005 x 100 x Q, Q = 9 909.55 / 99.5 = 99.593: the same bar's ETH low of
    # 99.5 takes it too, which it would not have at its price before BTC went (2 000 + 100 (Q - 100) =
    # 0.5 Q + 50 at BTC 10 000, Q = 8 050 / 99.5 = 80.90).
    account = SimulatedAccount("USDT", RealityModels(fees=FeeModel(0.0, 0.0)), {"USDT": 2_000.0})
    account.fill("BTC/USDT:USDT", 1.0, 10_000.0, leverage=10, slippage_fraction=0.0)
    account.fill("ETH/USDT:USDT", 100.0, 100.0, leverage=10, slippage_fraction=0.0)
    market = MarketSnapshot(
        NOW,
        {"BTC": 10_000.0, "ETH": 100.0},
        {"BTC/USDT:USDT": DerivativeQuote(mark=10_000.0), "ETH/USDT:USDT": DerivativeQuote(mark=100.0)},
    )
    btc, eth = account.check_liquidations(
        {"BTC/USDT:USDT": (8_000.0, 10_000.0), "ETH/USDT:USDT": (99.5, 100.0)}, market
    )
    assert btc.price == pytest.approx(8_050.0 / 0.995, rel=1e-12)
    cash = 2_000.0 + (8_050.0 / 0.995 - 10_000.0)
    assert eth.price == pytest.approx((10_000.0 - cash) / 99.5, rel=1e-12)
    assert eth.price == pytest.approx(99.593, abs=5e-4)
    assert account.positions == {}


def test_options_are_bought_for_their_premium() -> None:
    account = SimulatedAccount("USDT", RealityModels(fees=FeeModel(0.0, 0.0)), {"USDT": 5000.0})
    symbol = "BTC/USDT:USDT-261225-70000-C"
    account.fill(symbol, 1.0, 1500.0)
    assert account.cash == pytest.approx(3500.0)
    assert account.positions[symbol].instrument == parse_symbol(symbol)
    assert account.equity({}, {symbol: 1700.0}) == pytest.approx(5200.0)
    assert account.to_portfolio().derivatives[0].amount == 1.0
