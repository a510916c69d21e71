"""Valuing futures and perpetuals: PnL, delta-notional, class attribution, margin and leverage, by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trimtab.domain import (
    AssetClass,
    DerivativePosition,
    DerivativeQuote,
    MarketRules,
    MarketSnapshot,
    Portfolio,
    SpotHolding,
    parse_symbol,
)
from trimtab.domain.accounts import Account, MarginMode
from trimtab.valuation import MAINTENANCE_MARGIN_RATE, valuate

NOW = datetime(2026, 11, 21, tzinfo=UTC)
CLASSES = (
    AssetClass("BTC", ("BTC",), 0.5, {"BTC": 1.0}, band=0.05, hedge="BTC/USDT:USDT"),
    AssetClass("ALTS", ("SOL", "BNB"), 0.2, {"SOL": 0.5, "BNB": 0.5}, band=0.03, hedge="ALTS/USDT:USDT"),
    AssetClass("STABLE", ("USDT", "USDC"), 0.3, {"USDT": 0.5, "USDC": 0.5}, band=0.03, cash=True),
)
PRICES = {"BTC": 58000.0, "SOL": 140.0, "BNB": 600.0, "USDT": 1.0, "USDC": 0.9998}
QUOTES = {
    "BTC/USDT:USDT": DerivativeQuote(58020.0, funding_rate=0.0001, funding_interval_hours=8.0),
    "BTC/USDT:USDT-261225": DerivativeQuote(59500.0, funding_rate=0.0005),
    "ALTS/USDT:USDT": DerivativeQuote(1000.0),
    "BTC/USD:BTC": DerivativeQuote(50100.0),
}


def _market(prices: dict[str, float] | None = None, **extra: object) -> MarketSnapshot:
    return MarketSnapshot(NOW, prices or PRICES, QUOTES, **extra)  # type: ignore[arg-type]


def _position(symbol: str, amount: float, entry: float, leverage: float = 1.0) -> DerivativePosition:
    return DerivativePosition(parse_symbol(symbol), amount, entry, leverage)


def test_linear_perp_long_pnl_delta_and_margin() -> None:
    book = Portfolio(
        "USDT", spot=(SpotHolding("USDT", 10000.0),), derivatives=(_position("BTC/USDT:USDT", 0.5, 60000.0, 3.0),)
    )
    valuation = valuate(book, _market(), CLASSES)
    (risk,) = valuation.positions
    # PnL = 0.5 x (58 020 - 60 000) = -990; delta-notional = 0.5 x 58 020 = 29 010.
    assert risk.unrealised_pnl == pytest.approx(-990.0)
    assert risk.market_value == pytest.approx(-990.0)
    assert risk.delta_notional == pytest.approx(29010.0)
    assert risk.notional == pytest.approx(29010.0)
    assert risk.delta == 1.0
    assert risk.initial_margin == pytest.approx(29010.0 / 3.0)
    assert risk.maintenance_margin == pytest.approx(29010.0 * 0.005)
    assert risk.class_name == "BTC" and risk.exposure_asset == "BTC" and risk.symbol == "BTC/USDT:USDT"
    assert risk.underlying_price == 58000.0
    # Funding 0.01 % every 8 h = 0.03 % a day, paid by the long.
    assert risk.funding_per_day == pytest.approx(29010.0 * 0.0003)
    assert valuation.equity == pytest.approx(9010.0)
    assert valuation.weights["BTC"] == pytest.approx(29010.0 / 9010.0)
    assert valuation.weights["STABLE"] == pytest.approx(1.0 - 29010.0 / 9010.0)
    # Free collateral is the account's: 10 000 USDT - 990 of PnL = 9 010 of collateral, less 9 670 of
    # initial margin (not the cash class's remainder, -20 000).
    assert valuation.free_collateral == pytest.approx(9010.0 - 9670.0)
    assert valuation.gross_leverage == pytest.approx(29010.0 / 9010.0)


def test_linear_perp_short_hedge_raises_the_cash_weight() -> None:
    book = Portfolio(
        "USDT",
        spot=(SpotHolding("BTC", 1.0), SpotHolding("USDT", 42000.0)),
        derivatives=(_position("BTC/USDT:USDT", -0.25, 60000.0),),
    )
    valuation = valuate(book, _market(), CLASSES)
    (risk,) = valuation.positions
    # A short gains as the price falls: -0.25 x (58 020 - 60 000) = +495.
    assert risk.unrealised_pnl == pytest.approx(495.0)
    assert risk.delta_notional == pytest.approx(-14505.0)
    assert risk.funding_per_day == pytest.approx(-14505.0 * 0.0003)
    assert valuation.equity == pytest.approx(100495.0)
    btc = valuation.class_exposure("BTC")
    assert (btc.spot_value, btc.derivative_notional) == pytest.approx((58000.0, -14505.0))
    assert btc.net_exposure == pytest.approx(43495.0)
    assert btc.weight == pytest.approx(43495.0 / 100495.0)
    cash = valuation.class_exposure("STABLE")
    assert cash.net_exposure == pytest.approx(57000.0)
    assert cash.weight == pytest.approx(57000.0 / 100495.0)
    assert cash.weight > 42000.0 / 100495.0
    assert valuation.asset_exposure["BTC"] == pytest.approx(43495.0)
    assert valuation.gross_exposure == pytest.approx(58000.0 + 14505.0)
    assert valuation.net_exposure == pytest.approx(43495.0)
    assert valuation.net_leverage == pytest.approx(43495.0 / 100495.0)
    assert valuation.initial_margin == pytest.approx(14505.0)
    # Free collateral is the account's: 42 000 USDT + 495 of PnL (the BTC is not collateral of a default
    # account) - 14 505 of initial margin; the short's notional does not add to it.
    assert valuation.free_collateral == pytest.approx(42495.0 - 14505.0)


def test_dated_future_pnl_delta_and_no_funding() -> None:
    book = Portfolio(
        "USDT", spot=(SpotHolding("USDT", 5000.0),), derivatives=(_position("BTC/USDT:USDT-261225", 0.2, 59000.0, 5.0),)
    )
    valuation = valuate(book, _market(), CLASSES)
    (risk,) = valuation.positions
    assert risk.unrealised_pnl == pytest.approx(100.0)
    assert risk.delta_notional == pytest.approx(11900.0)
    assert risk.initial_margin == pytest.approx(2380.0)
    assert risk.funding_per_day == 0.0
    # Cross (the default account): 5 100 of collateral + 0.2 x (P - 59 500) = 0.2 x P x 0.5 %.
    assert risk.liquidation_price == pytest.approx((0.2 * 59500.0 - 5100.0) / (0.2 * 0.995))
    assert valuation.equity == pytest.approx(5100.0)
    # In an isolated account the position's own margin, 0.2 x 59 000 / 5, is all it may lose.
    isolated = Portfolio(
        "USDT", book.spot, book.derivatives, (Account("default", "x", margin_mode=MarginMode.ISOLATED),)
    )
    (risk,) = valuate(isolated, _market(), CLASSES).positions
    assert risk.liquidation_price == pytest.approx(59000.0 * 0.8 / 0.995)


def test_inverse_perp_pnl_in_coins_and_delta_in_coin_equivalent() -> None:
    # 1 000 contracts of 100 USD, short at 50 000; the mark has risen to 50 100.
    book = Portfolio(
        "USDT",
        spot=(SpotHolding("BTC", 2.0), SpotHolding("USDT", 1000.0)),
        derivatives=(_position("BTC/USD:BTC", -1000.0, 50000.0, 2.0),),
    )
    prices = {**PRICES, "BTC": 50000.0}
    market = _market(prices, markets={"BTC/USD:BTC": MarketRules(contract_size=100.0)})
    valuation = valuate(book, market, CLASSES)
    (risk,) = valuation.positions
    coins = -100000.0 / 50100.0
    assert risk.delta_notional == pytest.approx(coins * 50000.0)
    # PnL = -100 000 x (1/50 000 - 1/50 100) BTC = -0.0039920 BTC, at 50 000 = -199.60 USDT.
    assert risk.unrealised_pnl == pytest.approx(-100000.0 * (1 / 50000.0 - 1 / 50100.0) * 50000.0)
    assert risk.unrealised_pnl == pytest.approx(-199.6008, abs=1e-4)
    assert risk.initial_margin == pytest.approx(abs(coins) * 50000.0 / 2.0)
    # Cross in the default account, whose only collateral is its 1 000 USDT (the BTC is not collateral):
    # in coins, 0.02 + 100 000 x (1/50 000 - 1/P) ... solved: P = 100 000 x 0.995 / (2 - 0.02).
    assert risk.liquidation_price == pytest.approx(99500.0 / 1.98)
    # Isolated at 2x: E (1 - m) / (1 - 1/L) = 50 000 x 0.995 / 0.5.
    isolated = Portfolio(
        "USDT", book.spot, book.derivatives, (Account("default", "x", margin_mode=MarginMode.ISOLATED),)
    )
    (risk,) = valuate(isolated, market, CLASSES).positions
    assert risk.liquidation_price == pytest.approx(99500.0)
    assert risk.liquidation_distance == pytest.approx((99500.0 - 50100.0) / 50100.0)
    assert valuation.equity == pytest.approx(100000.0 + 1000.0 - 199.6008, abs=1e-3)
    assert valuation.class_exposure("BTC").net_exposure == pytest.approx(100000.0 + coins * 50000.0)


def test_inverse_perp_without_market_rules_counts_one_quote_unit_per_contract() -> None:
    book = Portfolio("USDT", derivatives=(_position("BTC/USD:BTC", 50100.0, 50100.0),))
    valuation = valuate(book, _market(), CLASSES)
    assert valuation.positions[0].delta_notional == pytest.approx(58000.0)


def test_index_perp_counts_toward_the_class_it_hedges() -> None:
    book = Portfolio(
        "USDT",
        spot=(SpotHolding("SOL", 100.0), SpotHolding("BNB", 20.0), SpotHolding("USDT", 10000.0)),
        derivatives=(_position("ALTS/USDT:USDT", -2.0, 1000.0),),
    )
    valuation = valuate(book, _market(), CLASSES)
    (risk,) = valuation.positions
    assert risk.class_name == "ALTS"
    assert risk.exposure_asset == "ALTS"
    alts = valuation.class_exposure("ALTS")
    assert alts.spot_value == pytest.approx(26000.0)
    assert alts.derivative_notional == pytest.approx(-2000.0)
    assert alts.net_exposure == pytest.approx(24000.0)
    assert valuation.equity == pytest.approx(36000.0)
    assert alts.weight == pytest.approx(24000.0 / 36000.0)
    assert valuation.weights["STABLE"] == pytest.approx(12000.0 / 36000.0)
    assert valuation.asset_exposure["ALTS"] == pytest.approx(-2000.0)
    assert valuation.positions_of("ALTS") == (risk,)
    assert valuation.positions_of("BTC") == ()


def test_a_derivative_that_counts_toward_no_class_is_refused() -> None:
    book = Portfolio("USDT", derivatives=(_position("ETH/USDT:USDT", 1.0, 3000.0),))
    market = MarketSnapshot(NOW, PRICES, {"ETH/USDT:USDT": DerivativeQuote(3000.0)})
    with pytest.raises(ValueError, match="counts toward no class"):
        valuate(book, market, CLASSES)


def test_a_missing_quote_raises_key_error() -> None:
    book = Portfolio("USDT", derivatives=(_position("BTC/USDT:USDT", 1.0, 3000.0),))
    with pytest.raises(KeyError, match="BTC/USDT:USDT"):
        valuate(book, MarketSnapshot(NOW, PRICES), CLASSES)


def test_perp_quoted_in_another_stablecoin_is_converted_at_its_price() -> None:
    book = Portfolio("USDT", derivatives=(_position("BTC/USDC:USDC", 1.0, 57000.0),))
    market = MarketSnapshot(NOW, PRICES, {"BTC/USDC:USDC": DerivativeQuote(58000.0)})
    (risk,) = valuate(book, market, CLASSES).positions
    assert risk.delta_notional == pytest.approx(58000.0 * 0.9998)
    assert risk.unrealised_pnl == pytest.approx(1000.0 * 0.9998)


def test_margin_and_leverage_add_up_over_a_mixed_book() -> None:
    book = Portfolio(
        "USDT",
        spot=(SpotHolding("BTC", 1.0), SpotHolding("SOL", 100.0), SpotHolding("USDT", 20000.0)),
        derivatives=(
            _position("BTC/USDT:USDT", -0.5, 58020.0, 2.0),
            _position("ALTS/USDT:USDT", -5.0, 1000.0, 5.0),
            _position("BTC/USDT:USDT-261225", 0.1, 59500.0, 10.0),
        ),
    )
    valuation = valuate(book, _market(), CLASSES)
    notionals = [29010.0, 5000.0, 5950.0]
    assert valuation.unrealised_pnl == pytest.approx(0.0)
    assert valuation.equity == pytest.approx(58000.0 + 14000.0 + 20000.0)
    assert valuation.initial_margin == pytest.approx(29010.0 / 2 + 5000.0 / 5 + 5950.0 / 10)
    assert valuation.maintenance_margin == pytest.approx(sum(notionals) * MAINTENANCE_MARGIN_RATE)
    # Collateral is the 20 000 USDT (PnL 0); free = that less the initial margin.
    assert valuation.free_collateral == pytest.approx(20000.0 - valuation.initial_margin)
    assert valuation.gross_exposure == pytest.approx(58000.0 + 14000.0 + sum(notionals))
    net = 58000.0 - 29010.0 + 5950.0 + 14000.0 - 5000.0
    assert valuation.net_exposure == pytest.approx(net)
    assert valuation.gross_leverage == pytest.approx((72000.0 + sum(notionals)) / 92000.0)
    assert valuation.net_leverage == pytest.approx(net / 92000.0)
    # Funding: the short BTC perp receives 0.03 %/day; the index perp has no funding; futures pay none.
    assert valuation.funding_per_day == pytest.approx(-29010.0 * 0.0003)
    assert valuation.min_liquidation_distance == pytest.approx(
        min(p.liquidation_distance for p in valuation.positions if p.liquidation_distance is not None)
    )
