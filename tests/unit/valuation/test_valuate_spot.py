"""Valuing spot-only books: equity, weights, the cash remainder, leverage and collateral, by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trimtab.domain import AssetClass, MarketSnapshot, Portfolio, SpotHolding
from trimtab.valuation import valuate

NOW = datetime(2026, 11, 21, tzinfo=UTC)
CLASSES = (
    AssetClass("BTC", ("BTC",), 0.5, {"BTC": 1.0}, band=0.05, hedge="BTC/USDT:USDT"),
    AssetClass("ETH", ("ETH",), 0.3, {"ETH": 1.0}, band=0.03),
    AssetClass("STABLE", ("USDT", "USDC"), 0.2, {"USDT": 0.5, "USDC": 0.5}, band=0.03, cash=True),
)
PRICES = {"BTC": 58000.0, "ETH": 3000.0, "USDT": 1.0, "USDC": 0.9998}


def _book() -> Portfolio:
    return Portfolio(
        "USDT",
        spot=(
            SpotHolding("BTC", 0.6, "binance"),
            SpotHolding("BTC", 0.4, "okx"),
            SpotHolding("ETH", 10.0),
            SpotHolding("USDT", 12000.0),
            SpotHolding("USDC", 10000.0),
        ),
    )


def test_spot_only_equity_and_weights() -> None:
    valuation = valuate(_book(), MarketSnapshot(NOW, PRICES), CLASSES)
    # 58 000 + 30 000 + 12 000 + 10 000 x 0.9998 = 109 998.
    assert valuation.equity == pytest.approx(109998.0)
    assert valuation.spot_values == pytest.approx({"BTC": 58000.0, "ETH": 30000.0, "USDT": 12000.0, "USDC": 9998.0})
    assert valuation.weights == pytest.approx(
        {"BTC": 58000.0 / 109998.0, "ETH": 30000.0 / 109998.0, "STABLE": 21998.0 / 109998.0}
    )
    assert sum(valuation.weights.values()) == pytest.approx(1.0)
    assert valuation.base_currency == "USDT"
    assert valuation.timestamp == NOW
    assert valuation.positions == ()


def test_a_stablecoin_other_than_the_base_is_valued_at_its_price() -> None:
    valuation = valuate(_book(), MarketSnapshot(NOW, PRICES), CLASSES)
    cash = valuation.class_exposure("STABLE")
    assert cash.cash
    assert cash.spot_value == pytest.approx(12000.0 + 9998.0)
    assert cash.net_exposure == pytest.approx(21998.0)
    assert valuation.asset_exposure["USDC"] == pytest.approx(9998.0)


def test_class_figures_and_order_follow_the_policy() -> None:
    valuation = valuate(_book(), MarketSnapshot(NOW, PRICES), CLASSES)
    assert [c.name for c in valuation.classes] == ["BTC", "ETH", "STABLE"]
    btc = valuation.class_exposure("BTC")
    assert (btc.spot_value, btc.derivative_notional, btc.net_exposure) == (58000.0, 0.0, 58000.0)
    assert not btc.cash
    with pytest.raises(KeyError):
        valuation.class_exposure("SOL")


def test_spot_only_leverage_collateral_and_margin() -> None:
    valuation = valuate(_book(), MarketSnapshot(NOW, PRICES), CLASSES)
    assert valuation.gross_exposure == pytest.approx(88000.0)
    assert valuation.net_exposure == pytest.approx(88000.0)
    assert valuation.gross_leverage == pytest.approx(88000.0 / 109998.0)
    assert valuation.net_leverage == pytest.approx(88000.0 / 109998.0)
    assert valuation.initial_margin == 0.0
    assert valuation.maintenance_margin == 0.0
    # The default account's collateral is its base currency only: 12 000 USDT (USDC is not collateral).
    assert valuation.free_collateral == pytest.approx(12000.0)
    assert valuation.unrealised_pnl == 0.0
    assert valuation.funding_per_day == 0.0
    assert valuation.min_liquidation_distance is None


def test_the_base_currency_may_be_missing_from_prices() -> None:
    prices = {k: v for k, v in PRICES.items() if k != "USDT"}
    valuation = valuate(_book(), MarketSnapshot(NOW, prices), CLASSES)
    assert valuation.spot_values["USDT"] == 12000.0
    assert valuation.equity == pytest.approx(109998.0)


def test_a_missing_price_raises_key_error() -> None:
    prices = {k: v for k, v in PRICES.items() if k != "ETH"}
    with pytest.raises(KeyError, match="ETH"):
        valuate(_book(), MarketSnapshot(NOW, prices), CLASSES)


def test_an_asset_in_no_class_counts_as_cash() -> None:
    book = Portfolio("USDT", spot=(SpotHolding("BTC", 1.0), SpotHolding("DAI", 500.0), SpotHolding("USDT", 500.0)))
    valuation = valuate(book, MarketSnapshot(NOW, {**PRICES, "DAI": 1.0}), CLASSES)
    assert valuation.class_exposure("STABLE").spot_value == pytest.approx(1000.0)
    assert valuation.weights["STABLE"] == pytest.approx(1000.0 / 59000.0)


def test_an_empty_portfolio_has_zero_equity_and_all_cash_weight() -> None:
    valuation = valuate(Portfolio("USDT"), MarketSnapshot(NOW, PRICES), CLASSES)
    assert valuation.equity == 0.0
    assert valuation.weights == {"BTC": 0.0, "ETH": 0.0, "STABLE": 1.0}
    assert valuation.gross_leverage == float("inf")


def test_classes_given_as_a_list_give_the_same_figures() -> None:
    market = MarketSnapshot(NOW, PRICES)
    from_tuple = valuate(_book(), market, CLASSES)
    from_list = valuate(_book(), market, list(CLASSES))
    assert from_list == from_tuple


def test_without_a_cash_class_every_class_keeps_its_own_weight() -> None:
    classes = (CLASSES[0], CLASSES[1])
    valuation = valuate(_book(), MarketSnapshot(NOW, PRICES), classes)
    assert [c.name for c in valuation.classes] == ["BTC", "ETH"]
    assert valuation.weights["BTC"] == pytest.approx(58000.0 / 109998.0)
    # Collateral does not depend on the classes: the default account's USDT.
    assert valuation.free_collateral == pytest.approx(12000.0)
