"""The pre-trade gate: each rule refuses what it must and lets through what it may."""

from __future__ import annotations

import pytest

from trimtab.domain import MarketRules, parse_symbol
from trimtab.domain.plan import Side
from trimtab.execution import ExecutionConfig, GateContext, GateRefusedError, PreTradeGate
from trimtab.execution.gate import floor_to_step
from trimtab.venues.ports import OrderRequest, OrderType, VenueMarket

PERP = "BTC/USDT:USDT"
MARKETS = {
    "BTC/USDT": VenueMarket("BTC/USDT", parse_symbol("BTC/USDT"), MarketRules(0.001, 0.001, 10.0)),
    "ETH/USDT": VenueMarket("ETH/USDT", parse_symbol("ETH/USDT"), MarketRules(0.0, 0.0, 10.0)),
    PERP: VenueMarket(PERP, parse_symbol(PERP), MarketRules(0.001, 0.001, 5.0)),
}
GATE = PreTradeGate(ExecutionConfig(max_order_notional=20_000.0, max_cycle_orders=3, max_day_turnover=1.0), MARKETS)
OK = GateContext(equity=100_000.0)


def _request(
    symbol: str = "BTC/USDT",
    side: Side = Side.BUY,
    amount: float = 0.1,
    price: float | None = 50_000.0,
    reduce_only: bool = False,
) -> OrderRequest:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest("tt-x-0-0", symbol, side, kind, amount, price, reduce_only)


def _rule(request: OrderRequest, context: GateContext = OK, fresh: float = 50_000.0) -> str:
    try:
        GATE.check(request, request.price or fresh, fresh, context)
    except GateRefusedError as refusal:
        return refusal.rule
    return "passed"


def test_an_ordinary_order_passes() -> None:
    assert _rule(_request()) == "passed"
    assert _rule(_request(price=None)) == "passed"


@pytest.mark.parametrize(
    ("request_", "context", "fresh", "rule"),
    [
        (_request(), GateContext(equity=100_000.0, halted=True), 50_000.0, "halted"),
        (_request(symbol="DOGE/USDT"), OK, 50_000.0, "symbol"),
        (_request(amount=0.1234567), OK, 50_000.0, "step"),
        (_request(amount=0.0001), OK, 50_000.0, "step"),
        (_request("ETH/USDT", amount=0.001, price=2_000.0), OK, 2_000.0, "minimum"),
        (_request(), OK, 52_000.0, "collar"),  # the market moved 4 % since the plan
        (_request(price=48_000.0), OK, 50_000.0, "collar"),
        (_request(amount=0.5), OK, 50_000.0, "cap"),  # 25 000 > 20 000 per order
        (_request(), GateContext(equity=100_000.0, cycle_orders=3), 50_000.0, "cap"),
        (_request(), GateContext(equity=100_000.0, day_notional=99_000.0), 50_000.0, "cap"),
        (
            _request(PERP, Side.BUY, 0.1, reduce_only=False),
            GateContext(equity=1e5, position=-0.3),
            50_000.0,
            "reduce_only",
        ),
        (
            _request(PERP, Side.BUY, 0.4, reduce_only=True),
            GateContext(equity=1e5, position=-0.3),
            50_000.0,
            "reduce_only",
        ),
        (_request(PERP, Side.SELL, 0.1), GateContext(equity=1e5, reducing_only=True), 50_000.0, "reducing_only"),
    ],
)
def test_each_rule_refuses_what_it_guards(
    request_: OrderRequest, context: GateContext, fresh: float, rule: str
) -> None:
    assert _rule(request_, context, fresh) == rule


def test_the_daily_notional_cap_counts_what_the_day_already_traded() -> None:
    gate = PreTradeGate(ExecutionConfig(max_day_notional=10_000.0), MARKETS)
    gate.check(_request(amount=0.1), 50_000.0, 50_000.0, GateContext(equity=1e6, day_notional=4_000.0))
    with pytest.raises(GateRefusedError, match="day's notional"):
        gate.check(_request(amount=0.1), 50_000.0, 50_000.0, GateContext(equity=1e6, day_notional=6_000.0))


def test_a_reduce_only_order_within_the_position_passes_even_while_reducing_only() -> None:
    context = GateContext(equity=1e5, position=-0.3, reducing_only=True)
    assert _rule(_request(PERP, Side.BUY, 0.3, reduce_only=True), context) == "passed"


def test_dust_is_recognised_and_amounts_are_truncated_to_the_step() -> None:
    assert floor_to_step(0.12345, 0.001) == pytest.approx(0.123)
    assert floor_to_step(0.3, 0.1) == pytest.approx(0.3)
    assert GATE.is_dust("BTC/USDT", 0.0009, 50_000.0)
    assert GATE.is_dust("BTC/USDT", 0.0001, 50_000.0)
    assert not GATE.is_dust("BTC/USDT", 0.001, 50_000.0)
    assert GATE.is_dust(PERP, 0.001, 4_000.0)  # 4 USDT < the 5 USDT minimum notional


def test_an_inverse_orders_notional_is_contracts_times_their_face_value() -> None:
    inverse = "BTC/USD:BTC"
    markets = {inverse: VenueMarket(inverse, parse_symbol(inverse), MarketRules(1.0, 1.0, 0.0, 100.0))}
    gate = PreTradeGate(ExecutionConfig(max_order_notional=20_000.0), markets)
    # 150 contracts of 100 USD = 15,000 USD: under the 20,000 cap (150 x 50,000 would be 7.5M)
    gate.check(_request(inverse, Side.SELL, 150.0, None), 50_000.0, 50_000.0, OK)
    with pytest.raises(GateRefusedError, match=r"order notional 25000\.00"):
        gate.check(_request(inverse, Side.SELL, 250.0, None), 50_000.0, 50_000.0, OK)


def test_a_reduce_only_order_above_the_per_order_cap_passes_it_only_lowers_risk() -> None:
    # Buying back 0.5 BTC of a 0.6 short is 25 000 of notional, above the 20 000 per-order cap.
    cut = _request(PERP, Side.BUY, 0.5, reduce_only=True)
    assert _rule(cut, GateContext(equity=100_000.0, position=-0.6, reducing_only=True)) == "passed"
    opening = _request(PERP, Side.SELL, 0.5)
    assert _rule(opening, GateContext(equity=100_000.0, position=0.0)) == "cap"
