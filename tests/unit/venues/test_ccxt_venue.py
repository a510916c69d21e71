"""The ccxt venue's own logic against a stub exchange: contract sizes, pre-send checks, no-change settings."""

from __future__ import annotations

import logging
from typing import Any

import ccxt
import pytest

from trimtab.domain import Side
from trimtab.errors import BadInputError, OrderRejectedError
from trimtab.venues.ccxt import CcxtVenue, RateLimiter, build_ccxt_venue
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType


class StubExchange:
    """Just enough of a ccxt exchange: one inverse perpetual of 100 USD contracts."""

    id = "stub"
    rateLimit = 0  # noqa: N815 (ccxt's attribute name)
    precisionMode = ccxt.TICK_SIZE  # noqa: N815
    has: dict[str, Any] = {"setLeverage": True, "setMarginMode": True, "fetchPositionMode": False}

    def __init__(self) -> None:
        self.logger = logging.getLogger("stub")
        self.markets = {
            "BTC/USD:BTC": {
                "symbol": "BTC/USD:BTC",
                "type": "swap",
                "swap": True,
                "contract": True,
                "contractSize": 100.0,
                "precision": {"amount": 1.0, "price": 0.5},
                "limits": {"amount": {"min": 1.0}, "cost": {"min": None}},
            }
        }
        self.sent: list[tuple[Any, ...]] = []
        self.leverage_calls = 0

    def load_markets(self) -> dict[str, Any]:
        return self.markets

    def amount_to_precision(self, symbol: str, amount: float) -> str:
        return str(int(amount))  # truncating, like ccxt with a step of 1 contract

    def price_to_precision(self, symbol: str, price: float) -> str:
        return str(round(price * 2) / 2)

    def create_order(self, symbol: str, type_: str, side: str, amount: float, price: float | None, params: Any) -> Any:
        self.sent.append((symbol, type_, side, amount, price, dict(params)))
        return {
            "id": "77",
            "clientOrderId": params["clientOrderId"],
            "symbol": symbol,
            "side": side,
            "type": type_,
            "amount": amount,
            "filled": 0,
            "price": price,
            "status": "open",
        }

    def set_leverage(self, leverage: float, symbol: str) -> None:
        self.leverage_calls += 1
        raise ccxt.NoChange("stub leverage: No need to change leverage.")

    def set_margin_mode(self, mode: str, symbol: str) -> None:
        raise ccxt.MarginModeAlreadySet("stub No need to change margin type.")


def _venue(stub: StubExchange) -> CcxtVenue:
    return CcxtVenue(stub, limiter=RateLimiter(), margin_mode="cross")


def test_amounts_in_base_units_are_sent_as_whole_contracts() -> None:
    stub = StubExchange()
    venue = _venue(stub)
    request = OrderRequest("c-1", "BTC/USD:BTC", Side.SELL, OrderType.LIMIT, 1234.0, 60_000.2, reduce_only=True)
    state = venue.create_order(request)
    symbol, type_, side, amount, price, params = stub.sent[0]
    assert (symbol, type_, side) == ("BTC/USD:BTC", "limit", "sell")
    assert amount == 12.0  # 1234 / 100 truncated to whole contracts
    assert price == 60_000.0
    assert params == {"clientOrderId": "c-1", "reduceOnly": True}
    assert state.amount == pytest.approx(1200.0)  # back in base units
    assert state.status is OrderStatus.OPEN


def test_an_amount_below_one_contract_is_refused_before_sending() -> None:
    stub = StubExchange()
    with pytest.raises(OrderRejectedError, match="rounds to 0"):
        _venue(stub).create_order(OrderRequest("c-2", "BTC/USD:BTC", Side.BUY, OrderType.LIMIT, 99.0, 60_000.0))
    assert stub.sent == []


def test_limit_orders_need_a_price_and_symbols_must_exist() -> None:
    venue = _venue(StubExchange())
    with pytest.raises(OrderRejectedError, match="price"):
        venue.create_order(OrderRequest("c-3", "BTC/USD:BTC", Side.BUY, OrderType.LIMIT, 500.0, None))
    with pytest.raises(OrderRejectedError, match="not a market"):
        venue.create_order(OrderRequest("c-4", "DOGE/USD:DOGE", Side.BUY, OrderType.MARKET, 500.0))


def test_no_change_answers_to_leverage_and_margin_mode_are_success() -> None:
    stub = StubExchange()
    _venue(stub).set_leverage("BTC/USD:BTC", 3)
    assert stub.leverage_calls == 1  # a definitive answer: not retried


def test_building_a_venue_checks_the_id_and_can_use_the_testnet() -> None:
    with pytest.raises(BadInputError, match="not a ccxt exchange"):
        build_ccxt_venue("no-such-exchange")
    venue = build_ccxt_venue("binance", sandbox=True)
    assert "testnet" in venue._exchange.urls["api"]["private"]
    assert venue.name == "binance"


class ListOnlyExchange(StubExchange):
    """An exchange that cannot query one order by client id, but lists open and closed orders."""

    has: dict[str, Any] = {**StubExchange.has, "fetchClosedOrders": True}

    def fetch_order(self, order_id: str | None, symbol: str, params: Any) -> Any:
        raise ccxt.ArgumentsRequired("stub fetchOrder() requires an id")

    def fetch_open_orders(self, symbol: str) -> list[Any]:
        return []

    def fetch_closed_orders(self, symbol: str) -> list[Any]:
        return [
            {"id": "5", "clientOrderId": "other", "symbol": symbol, "side": "buy", "type": "limit", "amount": 1},
            {
                "id": "6",
                "clientOrderId": "wanted",
                "symbol": symbol,
                "side": "sell",
                "type": "limit",
                "amount": 3,
                "filled": 3,
                "price": 60_000,
                "average": 60_000,
                "status": "closed",
                "fee": {"cost": 0.001, "currency": "BTC"},
            },
        ]


def test_an_exchange_without_lookup_by_client_id_is_searched_by_its_order_lists() -> None:
    venue = _venue(ListOnlyExchange())
    found = venue.fetch_order("wanted", "BTC/USD:BTC")
    assert found is not None and found.exchange_order_id == "6"
    assert found.status is OrderStatus.FILLED and found.filled == pytest.approx(300.0)
    assert venue.fetch_order("missing", "BTC/USD:BTC") is None


def test_hedge_mode_is_not_a_supported_configuration() -> None:
    with pytest.raises(BadInputError, match="one-way"):
        CcxtVenue(StubExchange(), limiter=RateLimiter(), position_mode="hedge")
