"""Liquidation prices of isolated positions and their distance from the mark."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from trimtab.domain import (
    AssetClass,
    DerivativePosition,
    DerivativeQuote,
    MarketSnapshot,
    Portfolio,
    SpotHolding,
    parse_symbol,
)
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.valuation import MAINTENANCE_MARGIN_RATE, liquidation_distance, liquidation_price, valuate

M = MAINTENANCE_MARGIN_RATE


def test_the_maintenance_rate_is_half_a_percent() -> None:
    assert M == 0.005


@pytest.mark.parametrize(
    ("leverage", "expected"),
    [(1.0, 0.0), (3.0, 60000.0 * (2.0 / 3.0) / 0.995), (10.0, 60000.0 * 0.9 / 0.995)],
)
def test_linear_long(leverage: float, expected: float) -> None:
    assert liquidation_price(60000.0, leverage, long=True) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("leverage", "expected"),
    [(1.0, 60000.0 * 2.0 / 1.005), (3.0, 60000.0 * (4.0 / 3.0) / 1.005), (10.0, 60000.0 * 1.1 / 1.005)],
)
def test_linear_short(leverage: float, expected: float) -> None:
    assert liquidation_price(60000.0, leverage, long=False) == pytest.approx(expected, rel=1e-12)


def test_linear_figures_by_hand() -> None:
    # Long 10x from 60 000: margin 6 000 per coin; at 54 271.36 the loss of 5 728.64 leaves 271.36 = 0.5 %.
    price = liquidation_price(60000.0, 10.0, long=True)
    assert price == pytest.approx(54271.356783919596)
    assert 6000.0 + (price - 60000.0) == pytest.approx(M * price)
    short = liquidation_price(60000.0, 3.0, long=False)
    assert 20000.0 + (60000.0 - short) == pytest.approx(M * short)


@pytest.mark.parametrize(
    ("leverage", "long", "expected"),
    [
        (1.0, True, 50000.0 * 1.005 / 2.0),
        (3.0, True, 50000.0 * 1.005 / (4.0 / 3.0)),
        (10.0, True, 50000.0 * 1.005 / 1.1),
        (1.0, False, math.inf),
        (3.0, False, 50000.0 * 0.995 / (2.0 / 3.0)),
        (10.0, False, 50000.0 * 0.995 / 0.9),
    ],
)
def test_inverse(leverage: float, long: bool, expected: float) -> None:
    assert liquidation_price(50000.0, leverage, long=long, inverse=True) == pytest.approx(expected, rel=1e-12)


def test_inverse_long_balances_margin_and_pnl_in_coins() -> None:
    face, entry, leverage = 100000.0, 50000.0, 5.0
    price = liquidation_price(entry, leverage, long=True, inverse=True)
    margin = face / (entry * leverage)
    pnl = face * (1 / entry - 1 / price)
    assert margin + pnl == pytest.approx(M * face / price)


def test_a_custom_maintenance_rate_is_used() -> None:
    assert liquidation_price(100.0, 2.0, long=True, rate=0.01) == pytest.approx(50.0 / 0.99)


def test_distance_is_the_adverse_move_as_a_fraction_of_the_mark() -> None:
    assert liquidation_distance(100.0, 80.0, long=True) == pytest.approx(0.2)
    assert liquidation_distance(100.0, 130.0, long=False) == pytest.approx(0.3)
    assert liquidation_distance(100.0, 0.0, long=True) == 1.0
    assert liquidation_distance(100.0, math.inf, long=False) == 1.0
    # Already beyond the liquidation price: no distance left.
    assert liquidation_distance(70.0, 80.0, long=True) == 0.0
    assert liquidation_distance(140.0, 130.0, long=False) == 0.0


def test_valuation_reports_the_liquidation_of_each_isolated_perp() -> None:
    isolated = (Account("default", "binance", AccountKind.DERIVATIVES, MarginMode.ISOLATED, {"USDT": 1.0}),)
    classes = (
        AssetClass("BTC", ("BTC",), 0.6, {"BTC": 1.0}, band=0.05),
        AssetClass("ETH", ("ETH",), 0.2, {"ETH": 1.0}, band=0.05),
        AssetClass("STABLE", ("USDT",), 0.2, {"USDT": 1.0}, band=0.05, cash=True),
    )
    book = Portfolio(
        "USDT",
        spot=(SpotHolding("USDT", 50000.0),),
        derivatives=(
            DerivativePosition(parse_symbol("BTC/USDT:USDT"), 0.5, 60000.0, 10.0),
            DerivativePosition(parse_symbol("ETH/USDT:USDT"), -3.0, 3000.0, 3.0),
            DerivativePosition(parse_symbol("ETH/USDT:USDT"), 1.0, 3000.0, 1.0),
        ),
        accounts=isolated,
    )
    quotes = {"BTC/USDT:USDT": DerivativeQuote(58000.0), "ETH/USDT:USDT": DerivativeQuote(3100.0)}
    market = MarketSnapshot(datetime(2026, 11, 21, tzinfo=UTC), {"BTC": 58000.0, "ETH": 3100.0}, quotes)
    btc, eth_short, eth_long = valuate(book, market, classes).positions
    assert btc.liquidation_price == pytest.approx(54271.356783919596)
    assert btc.liquidation_distance == pytest.approx((58000.0 - 54271.356783919596) / 58000.0)
    assert eth_short.liquidation_price == pytest.approx(3000.0 * (4 / 3) / 1.005)
    assert eth_short.liquidation_distance == pytest.approx((3000.0 * (4 / 3) / 1.005 - 3100.0) / 3100.0)
    # A 1x isolated long cannot be liquidated: no price, no distance.
    assert eth_long.liquidation_price is None
    assert eth_long.liquidation_distance is None
    assert valuate(book, market, classes).min_liquidation_distance == pytest.approx(btc.liquidation_distance)
