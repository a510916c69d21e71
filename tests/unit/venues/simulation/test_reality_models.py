"""The simulated exchange's reality models: fees, slippage, funding, margin and the account's fills."""

from __future__ import annotations

import math

import pytest

from trimtab.domain.instruments import parse_symbol
from trimtab.venues.simulation import (
    ConstantSlippage,
    FeeModel,
    FundingModel,
    Liquidity,
    MarginModel,
    RealityModels,
    SimulatedAccount,
    SquareRootImpact,
)
from trimtab.venues.simulation.slippage import BarConditions


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


def test_liquidation_at_the_maintenance_price_of_an_isolated_long() -> None:
    margin = MarginModel(maintenance_rate=0.005)
    price = margin.liquidation_price(100.0, 10.0, long=True)
    assert price == pytest.approx(100.0 * 0.9 / 0.995)
    assert margin.breached(1.0, 100.0, 10.0, price) and not margin.breached(1.0, 100.0, 10.0, price + 0.01)
    assert margin.liquidation_price(100.0, 1.0, long=True) == 0.0  # a 1x long cannot be liquidated
    account = SimulatedAccount("USDT", RealityModels(fees=FeeModel(0.0005, 0.0)), {"USDT": 100.0})
    account.fill("BTC/USDT:USDT", 10.0, 100.0, leverage=10, slippage_fraction=0.0)
    assert account.check_liquidations({"BTC/USDT:USDT": (95.0, 101.0)}) == []
    (liquidation,) = account.check_liquidations({"BTC/USDT:USDT": (90.0, 96.0)})
    assert liquidation.price == pytest.approx(price)
    assert liquidation.realised_pnl == pytest.approx(10.0 * (price - 100.0))
    assert "BTC/USDT:USDT" not in account.positions
    assert math.isclose(account.cash, 100.0 - 0.5 + 10.0 * (price - 100.0) - 0.0005 * 10.0 * price)


def test_options_are_bought_for_their_premium() -> None:
    account = SimulatedAccount("USDT", RealityModels(fees=FeeModel(0.0, 0.0)), {"USDT": 5000.0})
    symbol = "BTC/USDT:USDT-261225-70000-C"
    account.fill(symbol, 1.0, 1500.0)
    assert account.cash == pytest.approx(3500.0)
    assert account.positions[symbol].instrument == parse_symbol(symbol)
    assert account.equity({}, {symbol: 1700.0}) == pytest.approx(5200.0)
    assert account.to_portfolio().derivatives[0].amount == 1.0
