"""Invariants of a valuation over random mixed books: scaling, weights, margin and the cash remainder."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.domain import (
    AssetClass,
    DerivativePosition,
    DerivativeQuote,
    MarketSnapshot,
    Portfolio,
    SpotHolding,
    parse_symbol,
)
from trimtab.valuation import valuate

NOW = datetime(2026, 11, 21, tzinfo=UTC)
CLASSES = (
    AssetClass("BTC", ("BTC",), 0.5, {"BTC": 1.0}, band=0.05),
    AssetClass("ETH", ("ETH",), 0.3, {"ETH": 1.0}, band=0.05),
    AssetClass("STABLE", ("USDT", "USDC"), 0.2, {"USDT": 0.5, "USDC": 0.5}, band=0.05, cash=True),
)
MARKET = MarketSnapshot(
    NOW,
    {"BTC": 58000.0, "ETH": 3000.0, "USDC": 0.9998},
    {
        "BTC/USDT:USDT": DerivativeQuote(58020.0, funding_rate=0.0001),
        "ETH/USDT:USDT-261225": DerivativeQuote(3030.0),
        "BTC/USD:BTC": DerivativeQuote(58010.0, funding_rate=-0.0002),
        "BTC/USDT:USDT-261225-70000-C": DerivativeQuote(1450.0, iv=0.55),
        "ETH/USDT:USDT-261225-2800-P": DerivativeQuote(95.0, iv=0.7),
    },
)
SYMBOLS = tuple(MARKET.derivatives)

positions = st.lists(
    st.tuples(
        st.sampled_from(SYMBOLS),
        st.floats(min_value=-3.0, max_value=3.0).filter(lambda x: abs(x) > 1e-3),
        st.floats(min_value=0.5, max_value=1.5),
        st.sampled_from((1.0, 3.0, 10.0)),
    ),
    max_size=6,
)
spot = st.tuples(*(st.floats(min_value=0.0, max_value=20.0) for _ in range(3)))


def _book(spot_amounts: tuple[float, float, float], rows: list[tuple[str, float, float, float]], k: float) -> Portfolio:
    btc, eth, usdc = spot_amounts
    derivatives = []
    for symbol, amount, entry_factor, leverage in rows:
        mark = MARKET.derivatives[symbol].mark
        derivatives.append(DerivativePosition(parse_symbol(symbol), amount * k, mark * entry_factor, leverage))
    return Portfolio(
        "USDT",
        spot=(
            SpotHolding("BTC", btc * k),
            SpotHolding("ETH", eth * k),
            SpotHolding("USDC", usdc * 1000.0 * k),
            SpotHolding("USDT", 500000.0 * k),
        ),
        derivatives=tuple(derivatives),
    )


@settings(max_examples=60, deadline=None)
@given(spot_amounts=spot, rows=positions, k=st.floats(min_value=0.1, max_value=10.0))
def test_scaling_every_amount_scales_money_and_keeps_weights(
    spot_amounts: tuple[float, float, float], rows: list[tuple[str, float, float, float]], k: float
) -> None:
    one = valuate(_book(spot_amounts, rows, 1.0), MARKET, CLASSES)
    scaled = valuate(_book(spot_amounts, rows, k), MARKET, CLASSES)
    for field in ("equity", "gross_exposure", "net_exposure", "initial_margin", "free_collateral", "funding_per_day"):
        assert getattr(scaled, field) == pytest.approx(k * getattr(one, field), rel=1e-9, abs=1e-6)
    for a, b in zip(one.classes, scaled.classes, strict=True):
        assert b.weight == pytest.approx(a.weight, rel=1e-9, abs=1e-12)
    assert scaled.gross_leverage == pytest.approx(one.gross_leverage, rel=1e-9)
    for a, b in zip(one.positions, scaled.positions, strict=True):
        # Per-unit figures do not depend on size; nor does a cross liquidation price when the whole
        # account (collateral and every position) is scaled together.
        assert b.delta == a.delta
        if a.liquidation_price is None:
            assert b.liquidation_price is None
        else:
            assert b.liquidation_price == pytest.approx(a.liquidation_price, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(spot_amounts=spot, rows=positions)
def test_totals_are_the_sums_of_their_parts(
    spot_amounts: tuple[float, float, float], rows: list[tuple[str, float, float, float]]
) -> None:
    valuation = valuate(_book(spot_amounts, rows, 1.0), MARKET, CLASSES)
    assert sum(c.weight for c in valuation.classes) == pytest.approx(1.0)
    parts = valuation.positions
    futures_pnl = sum(p.unrealised_pnl for p in parts if p.instrument.kind.value != "option")
    options = sum(p.market_value for p in parts if p.instrument.kind.value == "option")
    assert valuation.equity == pytest.approx(sum(valuation.spot_values.values()) + futures_pnl + options)
    assert valuation.unrealised_pnl == pytest.approx(futures_pnl)
    assert valuation.initial_margin == pytest.approx(sum(p.initial_margin for p in parts))
    assert valuation.maintenance_margin == pytest.approx(sum(p.maintenance_margin for p in parts))
    # One default account: its collateral is its USDT + the futures' PnL + the short options' (negative) value.
    short_options = sum(p.market_value for p in parts if p.instrument.kind.value == "option" and p.amount < 0)
    usdt = 500000.0
    collateral = usdt + futures_pnl + short_options
    assert valuation.free_collateral == pytest.approx(collateral - valuation.initial_margin, abs=1e-6)
    assert valuation.accounts[0].collateral == pytest.approx(collateral, abs=1e-6)
    for c in valuation.classes:
        if not c.cash:
            assert c.derivative_notional == pytest.approx(sum(p.delta_notional for p in valuation.positions_of(c.name)))
            assert c.net_exposure == pytest.approx(c.spot_value + c.derivative_notional)
    for p in parts:
        assert p.notional >= 0 and p.initial_margin >= 0 and p.maintenance_margin >= 0
        if p.amount > 0 and p.instrument.kind.value == "option":
            assert p.initial_margin == 0.0
        if p.liquidation_distance is not None:
            assert p.liquidation_distance >= 0.0
