from __future__ import annotations

import ccxt
import pytest

from trimtab.domain import InstrumentKind, Side
from trimtab.venues.ccxt import parsing
from trimtab.venues.ports import OrderStatus, OrderType


def _market(**overrides: object) -> dict[str, object]:
    market: dict[str, object] = {
        "symbol": "BTC/USD:BTC",
        "contract": True,
        "contractSize": 100.0,
        "precision": {"amount": 1.0},
        "limits": {"amount": {"min": 1.0}, "cost": {"min": None}},
    }
    market.update(overrides)
    return market


def test_contract_markets_express_rules_in_base_units() -> None:
    parsed = parsing.parse_market(_market(), int(ccxt.TICK_SIZE))
    assert parsed is not None
    assert parsed.instrument.kind is InstrumentKind.PERP and parsed.instrument.is_inverse
    assert parsed.rules.contract_size == 100.0
    assert parsed.rules.amount_step == pytest.approx(100.0)
    assert parsed.rules.min_amount == pytest.approx(100.0)
    assert parsed.rules.min_notional == 0.0


def test_decimal_places_precision_becomes_a_step() -> None:
    market = _market(symbol="ETH/USDT", contract=False, precision={"amount": 3}, limits={"cost": {"min": 10}})
    parsed = parsing.parse_market(market, int(ccxt.DECIMAL_PLACES))
    assert parsed is not None
    assert parsed.rules.amount_step == pytest.approx(0.001)
    assert parsed.rules.min_notional == 10.0
    assert parsed.rules.contract_size == 1.0


def test_unknown_symbols_are_skipped() -> None:
    assert parsing.parse_market(_market(symbol="BTC-PERPETUAL-WEIRD"), int(ccxt.TICK_SIZE)) is None


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        ("open", 0.0, OrderStatus.OPEN),
        ("open", 0.5, OrderStatus.PARTIALLY_FILLED),
        ("closed", 1.0, OrderStatus.FILLED),
        ("closed", 0.4, OrderStatus.CANCELED),  # ccxt's reading of Bybit's spot PartiallyFilledCanceled
        ("canceled", 0.5, OrderStatus.CANCELED),
        ("expired", 0.0, OrderStatus.EXPIRED),
        ("rejected", 0.0, OrderStatus.REJECTED),
        (None, 0.0, OrderStatus.NEW),
    ],
)
def test_order_status_mapping(status: str | None, filled: float, expected: OrderStatus) -> None:
    order = {
        "id": "1",
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "limit",
        "amount": 1,
        "filled": filled,
        "status": status,
    }
    assert parsing.parse_order(order, size=1.0, client_order_id="c").status is expected


def test_orders_convert_contracts_and_sum_fees() -> None:
    order = {
        "id": "9",
        "clientOrderId": "c-9",
        "symbol": "BTC/USD:BTC",
        "side": "sell",
        "type": "market",
        "amount": 5,
        "filled": 2,
        "price": 60000,
        "average": 60010,
        "status": "open",
        "fees": [{"cost": 0.1, "currency": "BTC"}, {"cost": 0.05, "currency": "BTC"}],
        "timestamp": 1_700_000_000_000,
    }
    state = parsing.parse_order(order, size=100.0)
    assert (state.amount, state.filled) == (500.0, 200.0)
    assert state.side is Side.SELL and state.type is OrderType.MARKET
    assert state.price is None  # a market order has no limit price
    assert state.fee == pytest.approx(0.15) and state.fee_currency == "BTC"
    assert state.remaining == pytest.approx(300.0)
    assert state.timestamp is not None and state.timestamp.year == 2023


def test_short_positions_are_negative_and_flat_ones_dropped() -> None:
    short = {"symbol": "BTC/USDT:USDT", "contracts": 3, "side": "short", "entryPrice": 60000, "leverage": 3}
    position = parsing.parse_position(short, size=0.001, leverage=parsing.position_leverage(short) or 0.0)
    assert position is not None and position.amount == pytest.approx(-0.003)
    assert position.leverage == 3.0
    assert parsing.parse_position({"symbol": "BTC/USDT:USDT", "contracts": 0}, size=1.0, leverage=3.0) is None


def test_a_position_without_a_leverage_field_states_it_through_its_initial_margin() -> None:
    # Binance's /fapi/v3/positionRisk (recorded): notional 607.52416678, initialMargin 7.59405208, no leverage
    v3 = {"symbol": "BTC/USDT:USDT", "contracts": 0.009, "leverage": None, "notional": 607.52416678}
    v3["initialMargin"] = 7.59405208
    assert parsing.position_leverage(v3) == 80.0  # 607.52416678 / 7.59405208 = 79.99999995
    assert parsing.position_leverage({"symbol": "BTC/USDT:USDT", "contracts": 1}) is None  # never assumed


def test_inverse_contracts_stay_contracts_and_linear_ones_become_coins() -> None:
    inverse = {"contract": True, "inverse": True, "linear": False, "contractSize": 100}
    linear = {"contract": True, "inverse": False, "linear": True, "contractSize": 0.001}
    assert parsing.unit_size(inverse) == 1.0  # -3 contracts stay -3; the core applies the 100 USD once
    assert parsing.unit_size(linear) == 0.001
    assert parsing.unit_size({"contract": False}) == 1.0


def test_funding_intervals() -> None:
    assert parsing.funding_interval_hours({"interval": "4h"}) == 4.0
    assert parsing.funding_interval_hours({"interval": None}) is None
    assert parsing.funding_interval_hours(None) is None
