"""What leaves for an order: contracts for derivatives (the contract size applied once), minimums checked first."""

from __future__ import annotations

from typing import Any

import pytest

from trimtab.domain import Side
from trimtab.errors import OrderRejectedError
from trimtab.venues.ccxt.presend import amount_to_send
from trimtab.venues.ports import OrderRequest, OrderType


class _Exchange:
    """ccxt's ``amount_to_precision`` for a market whose step is 1 contract (truncating, as ccxt does)."""

    def __init__(self, step: float) -> None:
        self.step = step

    def amount_to_precision(self, symbol: str, amount: float) -> str:
        return f"{int(amount / self.step + 1e-9) * self.step:g}"


INVERSE: dict[str, Any] = {
    "contract": True,
    "inverse": True,
    "contractSize": 100,
    "limits": {"amount": {"min": 1}, "cost": {"min": 100}},
}
LINEAR: dict[str, Any] = {
    "contract": True,
    "inverse": False,
    "contractSize": 0.001,
    "limits": {"amount": {"min": 1}, "cost": {"min": 5}},
}


def _send(market: dict[str, Any], amount: float, price: float = 60_000.0, step: float = 1.0) -> float:
    request = OrderRequest("tt-1", "X", Side.SELL, OrderType.LIMIT, amount, price)
    return amount_to_send(_Exchange(step), request, market, lambda: price, "test")


def test_an_inverse_hedge_of_25000_usd_leaves_as_250_contracts() -> None:
    assert _send(INVERSE, 25_000.0 / 100) == 250.0  # trimtab counts inverse contracts: sent as they are


def test_an_inverse_order_below_the_minimum_face_value_is_refused() -> None:
    with pytest.raises(OrderRejectedError, match="rounds to 0"):
        _send(INVERSE, 0.5)  # truncates to 0 contracts
    market = {**INVERSE, "limits": {"amount": {"min": 1}, "cost": {"min": 1_000}}}
    with pytest.raises(OrderRejectedError, match=r"notional 500\.00 is below the minimum 1000"):
        _send(market, 5.0)  # 5 contracts x 100 USD, whatever the price


def test_a_linear_amount_in_coins_leaves_as_contracts() -> None:
    assert _send(LINEAR, 0.25) == 250.0  # 0.25 BTC of 0.001 BTC contracts
    with pytest.raises(OrderRejectedError, match="notional"):
        _send(LINEAR, 0.001, price=100.0)  # 1 contract x 0.001 x 100 = 0.10 < 5
