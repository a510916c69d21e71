"""Rounding to lot sizes, venue minimums, the policy's min_notional and dust."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trimtab.domain import InstrumentKind, MarketRules, MarketSnapshot, Side, Trade
from trimtab.domain.portfolio import Portfolio, SpotHolding
from trimtab.planner.rounding import ceil_to_step, edge_limits, floor_to_step, round_trades


def spot(amount: float, price: float = 58000.0, symbol: str = "BTC/USDT") -> Trade:
    return Trade("BTC", symbol, InstrumentKind.SPOT, Side.SELL, amount, amount * price, price)


def test_floor_to_step_rounds_down_and_reads_cleanly() -> None:
    assert floor_to_step(0.13793103448275862, 0.00001) == 0.13793
    assert floor_to_step(0.3, 0.1) == 0.3
    assert floor_to_step(0.29999, 0.1) == 0.2
    assert floor_to_step(0.00099, 0.001) == 0.0
    assert floor_to_step(1.23456, 0.0) == 1.23456


def test_amounts_round_down_to_the_step_when_rules_are_known(
    market_of: Callable[..., MarketSnapshot],
) -> None:
    market = market_of({"BTC": 58000.0}, rules={"BTC/USDT": MarketRules(amount_step=0.0001)})
    result = round_trades([spot(8000.0 / 58000.0)], market, 10.0)
    (trade,) = result.trades
    assert trade.amount == 0.1379
    assert trade.notional == pytest.approx(0.1379 * 58000.0)
    assert result.notes == ()


def test_without_rules_the_exact_amount_is_kept(market_of: Callable[..., MarketSnapshot]) -> None:
    result = round_trades([spot(8000.0 / 58000.0)], market_of({"BTC": 58000.0}), 10.0)
    assert result.trades[0].amount == 8000.0 / 58000.0
    assert result.trades[0].notional == 8000.0


def test_orders_below_min_notional_are_skipped_with_a_note(market_of: Callable[..., MarketSnapshot]) -> None:
    result = round_trades([spot(9.0 / 58000.0), spot(11.0 / 58000.0)], market_of({"BTC": 58000.0}), 10.0)
    assert [t.notional for t in result.trades] == pytest.approx([11.0])
    assert len(result.notes) == 1
    assert "below min_notional 10" in result.notes[0]


def test_venue_minimums_skip_orders(market_of: Callable[..., MarketSnapshot]) -> None:
    rules = {"BTC/USDT": MarketRules(amount_step=0.0, min_amount=0.001, min_notional=100.0)}
    market = market_of({"BTC": 58000.0}, rules=rules)
    result = round_trades([spot(0.0009), spot(0.0015), spot(0.002)], market, 10.0)
    assert [t.amount for t in result.trades] == [0.002]
    assert "min_amount" in result.notes[0]
    assert "the venue's min_notional 100" in result.notes[1]


def test_dust_that_rounds_to_zero_is_skipped(market_of: Callable[..., MarketSnapshot]) -> None:
    market = market_of({"BTC": 58000.0}, rules={"BTC/USDT": MarketRules(amount_step=0.01)})
    result = round_trades([spot(0.009)], market, 0.0)
    assert result.trades == ()
    assert "rounds to zero" in result.notes[0]


def test_ceil_to_step_rounds_up_and_reads_cleanly() -> None:
    assert ceil_to_step(0.041406638, 0.00001) == 0.04141
    assert ceil_to_step(0.3, 0.1) == 0.3
    assert ceil_to_step(0.20001, 0.1) == 0.3
    assert ceil_to_step(1.23456, 0.0) == 1.23456


def _held(amount: float) -> Portfolio:
    return Portfolio("USDT", (SpotHolding("BTC", amount, "default"),))


def test_a_band_edge_sale_rounds_up_to_the_lot(market_of: Callable[..., MarketSnapshot]) -> None:
    # The README's sale: 2,401.5850 of BTC at 58,000 is 0.0414066 BTC; the lot of 0.00001 rounds it up to
    # 0.04141 (2,401.78), toward the inside of BTC's band; rounded down (0.04140, 2,401.20) BTC would stay
    # above 44 % after the sale's costs.
    market = market_of({"BTC": 58000.0}, rules={"BTC/USDT": MarketRules(amount_step=0.00001)})
    sale = spot(2401.5850 / 58000.0)
    limits = edge_limits([sale], _held(0.8), market, {"BTC": (8000.0, 0.0)})
    (trade,) = round_trades([sale], market, 10.0, limits).trades
    assert trade.amount == 0.04141
    assert trade.notional == pytest.approx(2401.78)


def test_a_band_edge_sale_rounds_down_when_the_lot_exceeds_the_holding(
    market_of: Callable[..., MarketSnapshot],
) -> None:
    market = market_of({"BTC": 58000.0}, rules={"BTC/USDT": MarketRules(amount_step=0.001)})
    sale = spot(0.0415)
    limits = edge_limits([sale], _held(0.0415), market, {"BTC": (8000.0, 0.0)})
    assert round_trades([sale], market, 10.0, limits).trades[0].amount == 0.041


def test_a_band_edge_order_rounds_down_when_the_lot_would_cross_the_far_edge(
    market_of: Callable[..., MarketSnapshot],
) -> None:
    # Rounding 0.0415 up to 0.042 sells 29 more (0.0005 x 58,000); the class may fall only 20 more.
    market = market_of({"BTC": 58000.0}, rules={"BTC/USDT": MarketRules(amount_step=0.001)})
    sale = spot(0.0415)
    limits = edge_limits([sale], _held(1.0), market, {"BTC": (20.0, 0.0)})
    assert round_trades([sale], market, 10.0, limits).trades[0].amount == 0.041
    wider = edge_limits([sale], _held(1.0), market, {"BTC": (30.0, 0.0)})
    assert round_trades([sale], market, 10.0, wider).trades[0].amount == 0.042
