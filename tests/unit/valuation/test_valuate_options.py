"""Valuing option positions: mark value in equity, Black-76 delta-notional, greeks, expiry and margin."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from statistics import NormalDist

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
from trimtab.valuation import MAINTENANCE_MARGIN_RATE, valuate

NOW = datetime(2026, 11, 21, tzinfo=UTC)
CALL = "BTC/USDT:USDT-261225-70000-C"
PUT = "BTC/USDT:USDT-261225-50000-P"
CLASSES = (
    AssetClass("BTC", ("BTC",), 0.6, {"BTC": 1.0}, band=0.05),
    AssetClass("STABLE", ("USDT",), 0.4, {"USDT": 1.0}, band=0.05, cash=True),
)
QUOTES = {CALL: DerivativeQuote(1450.0, iv=0.55), PUT: DerivativeQuote(420.0, iv=0.60)}
YEARS = (34 + 8 / 24) / 365  # 21 Nov 00:00 UTC to 25 Dec 08:00 UTC
N = NormalDist()


def _hand_greeks(spot: float, strike: float, years: float, vol: float) -> tuple[float, float, float]:
    """Call delta, gamma and theta per day, written out from the Black-76 formulas."""
    d1 = (math.log(spot / strike) + vol * vol * years / 2) / (vol * math.sqrt(years))
    delta = N.cdf(d1)
    gamma = N.pdf(d1) / (spot * vol * math.sqrt(years))
    theta = -spot * N.pdf(d1) * vol / (2 * math.sqrt(years)) / 365
    return delta, gamma, theta


def _book(*positions: tuple[str, float, float]) -> Portfolio:
    return Portfolio(
        "USDT",
        spot=(SpotHolding("BTC", 1.0), SpotHolding("USDT", 20000.0)),
        derivatives=tuple(DerivativePosition(parse_symbol(s), a, e, 2.0) for s, a, e in positions),
    )


def test_long_call_value_delta_gamma_theta() -> None:
    valuation = valuate(_book((CALL, 2.0, 1200.0)), MarketSnapshot(NOW, {"BTC": 58000.0}, QUOTES), CLASSES)
    (risk,) = valuation.positions
    delta, gamma, theta = _hand_greeks(58000.0, 70000.0, YEARS, 0.55)
    assert risk.delta == pytest.approx(delta, rel=1e-9)
    assert 0.1 < risk.delta < 0.3
    assert risk.delta_notional == pytest.approx(delta * 2.0 * 58000.0, rel=1e-9)
    assert risk.gamma == pytest.approx(gamma * 2.0, rel=1e-9)
    assert risk.theta_per_day == pytest.approx(theta * 2.0, rel=1e-9)
    assert risk.market_value == pytest.approx(2900.0)
    assert risk.unrealised_pnl == pytest.approx(2900.0 - 2400.0)
    assert risk.notional == pytest.approx(116000.0)
    # A long option needs no margin and cannot be liquidated.
    assert (risk.initial_margin, risk.maintenance_margin) == (0.0, 0.0)
    assert risk.liquidation_price is None and risk.liquidation_distance is None
    assert risk.funding_per_day == 0.0
    # Equity counts the option at its mark; the class counts its delta.
    assert valuation.equity == pytest.approx(58000.0 + 20000.0 + 2900.0)
    btc = valuation.class_exposure("BTC")
    assert btc.net_exposure == pytest.approx(58000.0 + risk.delta_notional)
    assert btc.weight == pytest.approx(btc.net_exposure / 80900.0)
    # A long option is worth its mark in equity but is not collateral: free = the 20 000 USDT.
    assert valuation.free_collateral == pytest.approx(20000.0)
    assert valuation.unrealised_pnl == 0.0


def test_short_put_delta_is_positive_and_needs_margin() -> None:
    valuation = valuate(_book((PUT, -1.0, 500.0)), MarketSnapshot(NOW, {"BTC": 58000.0}, QUOTES), CLASSES)
    (risk,) = valuation.positions
    d1 = (math.log(58000.0 / 50000.0) + 0.6**2 * YEARS / 2) / (0.6 * math.sqrt(YEARS))
    put_delta = N.cdf(d1) - 1.0
    assert risk.delta == pytest.approx(put_delta, rel=1e-9)
    assert risk.delta_notional == pytest.approx(-put_delta * 58000.0, rel=1e-9)
    assert risk.delta_notional > 0
    assert risk.market_value == pytest.approx(-420.0)
    assert risk.gamma < 0 and risk.theta_per_day > 0
    assert risk.initial_margin == pytest.approx(58000.0 / 2.0)
    assert risk.maintenance_margin == pytest.approx(58000.0 * MAINTENANCE_MARGIN_RATE)
    assert valuation.equity == pytest.approx(78000.0 - 420.0)
    # The short put's liability (-420) is counted against the 20 000 USDT; its margin is 58 000 / 2.
    assert valuation.free_collateral == pytest.approx(20000.0 - 420.0 - 29000.0)


def test_expired_option_has_step_delta_and_no_time_value() -> None:
    after_expiry = datetime(2026, 12, 26, tzinfo=UTC)
    quotes = {"BTC/USDT:USDT-261225-50000-C": DerivativeQuote(8000.0, iv=0.5), **QUOTES}
    book = _book(("BTC/USDT:USDT-261225-50000-C", 1.0, 0.0), (CALL, 1.0, 0.0))
    valuation = valuate(book, MarketSnapshot(after_expiry, {"BTC": 58000.0}, quotes), CLASSES)
    in_the_money, out_of_the_money = valuation.positions
    assert (in_the_money.delta, in_the_money.gamma, in_the_money.theta_per_day) == (1.0, 0.0, 0.0)
    assert in_the_money.delta_notional == 58000.0
    assert (out_of_the_money.delta, out_of_the_money.delta_notional) == (0.0, 0.0)


def test_time_to_expiry_runs_to_eight_utc_on_the_expiry_date() -> None:
    one_hour_before = datetime(2026, 12, 25, 7, 0, tzinfo=UTC)
    valuation = valuate(_book((CALL, 1.0, 0.0)), MarketSnapshot(one_hour_before, {"BTC": 70000.0}, QUOTES), CLASSES)
    # At the money with one hour (1 / 8760 of a year) left: delta is N(vol sqrt(T) / 2), a little above 0.5.
    years = 1.0 / (365 * 24)
    assert valuation.positions[0].delta == pytest.approx(N.cdf(0.55 * math.sqrt(years) / 2), rel=1e-9)
    at_expiry = datetime(2026, 12, 25, 8, 0, tzinfo=UTC)
    expired = valuate(_book((CALL, 1.0, 0.0)), MarketSnapshot(at_expiry, {"BTC": 70000.0}, QUOTES), CLASSES)
    assert expired.positions[0].delta == 0.0


def test_a_naive_timestamp_is_read_as_utc() -> None:
    naive = datetime(2026, 11, 21)
    aware = valuate(_book((CALL, 1.0, 0.0)), MarketSnapshot(NOW, {"BTC": 58000.0}, QUOTES), CLASSES)
    from_naive = valuate(_book((CALL, 1.0, 0.0)), MarketSnapshot(naive, {"BTC": 58000.0}, QUOTES), CLASSES)
    assert from_naive.positions[0].delta == aware.positions[0].delta


def test_without_a_spot_price_the_underlying_is_the_perpetual_mark() -> None:
    quotes = {**QUOTES, "BTC/USDT:USDT": DerivativeQuote(58000.0)}
    book = Portfolio("USDT", spot=(SpotHolding("USDT", 1000.0),), derivatives=_book((CALL, 1.0, 0.0)).derivatives)
    valuation = valuate(book, MarketSnapshot(NOW, {}, quotes), CLASSES)
    delta, _, _ = _hand_greeks(58000.0, 70000.0, YEARS, 0.55)
    assert valuation.positions[0].underlying_price == 58000.0
    assert valuation.positions[0].delta_notional == pytest.approx(delta * 58000.0, rel=1e-9)


def test_without_any_price_for_the_underlying_the_option_is_refused() -> None:
    book = Portfolio("USDT", derivatives=_book((CALL, 1.0, 0.0)).derivatives)
    with pytest.raises(KeyError, match="no price for its underlying BTC"):
        valuate(book, MarketSnapshot(NOW, {}, QUOTES), CLASSES)


def test_inverse_option_is_marked_in_coins() -> None:
    symbol = "BTC/USD:BTC-261225-70000-C"
    quotes = {symbol: DerivativeQuote(0.025, iv=0.55)}
    book = Portfolio("USDT", spot=(SpotHolding("USDT", 1000.0),), derivatives=_book((symbol, 2.0, 0.02)).derivatives)
    valuation = valuate(book, MarketSnapshot(NOW, {"BTC": 58000.0}, quotes), CLASSES)
    (risk,) = valuation.positions
    # 2 options x 0.025 BTC x 58 000 = 2 900 USDT.
    assert risk.market_value == pytest.approx(2900.0)
    assert risk.unrealised_pnl == pytest.approx(2.0 * 0.005 * 58000.0)
    delta, _, _ = _hand_greeks(58000.0, 70000.0, YEARS, 0.55)
    assert risk.delta_notional == pytest.approx(delta * 2.0 * 58000.0, rel=1e-9)
    assert valuation.equity == pytest.approx(3900.0)
