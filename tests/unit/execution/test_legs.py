"""Legs from a plan's trades: reductions are reduce-only and only close what is still held."""

from __future__ import annotations

import pytest

from trimtab.domain import InstrumentKind
from trimtab.domain.plan import Side, Trade
from trimtab.execution.legs import legs_from_trades

PERP = "BTC/USDT:USDT"


def _perp(side: Side, amount: float, reduce_only: bool) -> Trade:
    return Trade("BTC", PERP, InstrumentKind.PERP, side, amount, amount * 100.0, 100.0, reduce_only=reduce_only)


def test_closing_a_long_then_opening_a_short_in_one_plan_sends_a_reduction_and_an_opening() -> None:
    # Long 0.017 held; the plan closes it (0.017) and then opens a 0.0116 short: two trades on one symbol.
    legs = legs_from_trades([_perp(Side.SELL, 0.017, True), _perp(Side.SELL, 0.0116, False)], {PERP: 0.017})
    assert [(leg.side, leg.reduce_only) for leg in legs] == [(Side.SELL, True), (Side.SELL, False)]
    assert [leg.amount for leg in legs] == pytest.approx([0.017, 0.0116])


def test_one_trade_through_zero_is_split_into_a_reduction_and_an_opening() -> None:
    legs = legs_from_trades([_perp(Side.SELL, 0.03, False)], {PERP: 0.017})
    assert [(leg.amount, leg.reduce_only) for leg in legs] == [
        (pytest.approx(0.017), True),
        (pytest.approx(0.013), False),
    ]


def test_an_inverse_legs_notional_is_its_face_value_not_contracts_times_price() -> None:
    # 780 contracts of 100 USD on BTC/USD:BTC: 78,000 USD (not 780 x 60,000 = 46.8M, nor 780 USD)
    hedge = Trade("BTC", "BTC/USD:BTC", InstrumentKind.PERP, Side.SELL, 780.0, 78_000.0, 60_000.0)
    (leg,) = legs_from_trades([hedge], {})
    assert leg.notional == 78_000.0
    (spot,) = legs_from_trades([Trade("BTC", "BTC/USDT", InstrumentKind.SPOT, Side.BUY, 0.5, 30_000.0, 60_000.0)], {})
    assert spot.notional == 30_000.0
