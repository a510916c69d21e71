"""The fake Bybit's unified trading account: one wallet, spot and linear-perpetual orders, and refusals.

Rules and codes are Bybit's V5 ones (https://bybit-exchange.github.io/docs/v5/error): ``orderLinkId`` up to
36 characters of letters, digits, ``-`` and ``_`` (10001) and unique (110072); a linear quantity on the
``qtyStep`` grid (10001 "Qty invalid") and at least ``minOrderQty`` (10001), a linear order worth at least
``minNotionalValue`` (110094) and covered by the available balance (110007 "ab not enough for new order");
a spot quantity within ``basePrecision`` (170137), at least ``minOrderQty`` (170136) and ``minOrderAmt``
(170140), and paid for from what the wallet holds beyond its open orders (170131 "Insufficient balance.").
A resting spot order locks what it may spend (``locked`` in the wallet answer). A ``PostOnly`` order that
would take is accepted and then cancelled by the matching engine (``rejectReason``
``EC_PostOnlyWillTakeLiquidity``), as Bybit does; a spot order cancelled after a partial fill ends
``PartiallyFilledCanceled`` (spot only; a linear one ends ``Cancelled``). Fees: spot 0.1 % (taker and maker),
charged in the coin received; linear 0.055 % taker and 0.02 % maker, in the settle coin. Every coin of the
wallet is collateral.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from trimtab.testing.fake_bybit.market_data import BybitMarket

if TYPE_CHECKING:
    from trimtab.testing.fake_bybit.transfers import BybitTransfer

LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
SPOT_TAKER = 0.001
SPOT_MAKER = 0.001
LINEAR_TAKER = 0.00055
LINEAR_MAKER = 0.0002
OPEN_STATUSES = ("New", "PartiallyFilled")


class BybitRejectError(Exception):
    """A refusal, answered as Bybit does: HTTP 200 with ``retCode`` and ``retMsg``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


@dataclass
class Order:
    order_id: str
    link_id: str
    market: BybitMarket
    side: str  # "Buy" or "Sell"
    order_type: str  # "Market" or "Limit"
    qty: float
    price: float | None
    reduce_only: bool
    created_ms: int
    time_in_force: str = "GTC"
    status: str = "New"
    reject_reason: str = "EC_NoError"
    filled: float = 0.0
    value: float = 0.0
    fee: float = 0.0
    fee_coin: str = ""
    updated_ms: int = 0


@dataclass
class Execution:
    exec_id: str
    order: Order
    qty: float
    price: float
    fee: float
    fee_coin: str
    time_ms: int
    is_maker: bool = False


@dataclass
class Position:
    size: float = 0.0  # signed, base units
    entry: float = 0.0


@dataclass
class BybitEngine:
    """The exchange's state; every method is called under :attr:`lock`."""

    markets: dict[tuple[str, str], BybitMarket] = field(default_factory=dict)
    wallet: dict[str, float] = field(default_factory=dict)
    """The unified trading account (``UNIFIED``): every coin in it is collateral."""
    funding: dict[str, float] = field(default_factory=dict)
    """The funding account (``FUND``): deposits land here; it trades nothing and margins nothing."""
    transfers: list[BybitTransfer] = field(default_factory=list)
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, float] = field(default_factory=dict)
    margin_mode: str = "REGULAR_MARGIN"
    orders: list[Order] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_market(self, market: BybitMarket) -> None:
        self.markets[(market.category, market.symbol)] = market

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def market(self, category: str, symbol: str) -> BybitMarket:
        found = self.markets.get((category, symbol))
        if found is None:
            raise BybitRejectError(10001, f"params error: symbol invalid {symbol}")
        return found

    # ------------------------------------------------------------------ orders
    def create(
        self,
        category: str,
        symbol: str,
        side: str,
        order_type: str,
        qty: float,
        price: float | None,
        link_id: str,
        reduce_only: bool = False,
        time_in_force: str = "GTC",
    ) -> Order:
        market = self.market(category, symbol)
        if link_id and not LINK_ID.match(link_id):
            raise BybitRejectError(10001, "params error: orderLinkId invalid")
        if link_id and any(o.link_id == link_id for o in self.orders):
            raise BybitRejectError(110072, "OrderLinkedID is duplicate")
        if side not in ("Buy", "Sell") or order_type not in ("Market", "Limit"):
            raise BybitRejectError(10001, "params error: side or orderType invalid")
        if order_type == "Limit" and not price:
            raise BybitRejectError(10001, "params error: price invalid")
        reference = price if order_type == "Limit" and price else market.price
        if category == "spot":
            self._check_spot(market, side, qty, reference)
        else:
            self._check_linear(market, side, qty, reference, reduce_only)
        now = self.now_ms()
        order = Order(
            order_id=str(uuid.UUID(int=next(self._ids))),
            link_id=link_id,
            market=market,
            side=side,
            order_type=order_type,
            qty=qty,
            price=price if order_type == "Limit" else None,
            reduce_only=reduce_only,
            created_ms=now,
            time_in_force="IOC" if order_type == "Market" else time_in_force,
            updated_ms=now,
        )
        self.orders.append(order)
        if not _crosses(order, market.price):
            return order
        if order.time_in_force == "PostOnly":  # accepted, then cancelled by the matching engine
            order.status, order.reject_reason = "Cancelled", "EC_PostOnlyWillTakeLiquidity"
        else:
            self.fill(order, market.price, maker=False)
        return order

    def _check_spot(self, market: BybitMarket, side: str, qty: float, price: float) -> None:
        if not _on_grid(qty, market.qty_step):
            raise BybitRejectError(170137, "Order quantity has too many decimals.")
        if qty < float(market.min_qty):
            raise BybitRejectError(170136, "Order quantity exceeded lower limit.")
        if qty * price < float(market.min_notional):
            raise BybitRejectError(170140, "Order value exceeded lower limit.")
        coin, needed = (market.quote, qty * price) if side == "Buy" else (market.base, qty)
        if self.wallet.get(coin, 0.0) - self.locked(coin) < needed * (1 - 1e-12):
            raise BybitRejectError(170131, "Insufficient balance.")

    def _check_linear(self, market: BybitMarket, side: str, qty: float, price: float, reduce_only: bool) -> None:
        if not _on_grid(qty, market.qty_step):
            raise BybitRejectError(10001, "Qty invalid")
        if qty < float(market.min_qty):
            raise BybitRejectError(10001, "The number of contracts exceeds minimum limit allowed")
        held = self.positions.get(market.symbol, Position()).size
        signed = qty if side == "Buy" else -qty
        reduces = held != 0 and (held > 0) != (signed > 0) and abs(signed) <= abs(held)
        if reduce_only and not reduces:
            raise BybitRejectError(110017, "current position is zero, cannot fix reduce-only order qty")
        if reduces:
            return
        if qty * price < float(market.min_notional):
            raise BybitRejectError(110094, "Order does not meet minimum order value")
        leverage = self.leverage.get(market.symbol, 10.0)
        if qty * price / leverage + qty * price * LINEAR_TAKER > self.available(market.quote):
            raise BybitRejectError(110007, "ab not enough for new order")

    def fill(self, order: Order, price: float, qty: float | None = None, *, maker: bool = True) -> None:
        """Fill ``qty`` (all that is left by default) of an order at ``price``; a resting order fills as maker."""
        market = order.market
        qty = order.qty - order.filled if qty is None else min(qty, order.qty - order.filled)
        value = qty * price
        if market.category == "spot":
            rate = SPOT_MAKER if maker else SPOT_TAKER
            if order.side == "Buy":
                fee, coin = qty * rate, market.base
                self._add(market.quote, -value)
                self._add(market.base, qty - fee)
            else:
                fee, coin = value * rate, market.quote
                self._add(market.base, -qty)
                self._add(market.quote, value - fee)
        else:
            fee, coin = value * (LINEAR_MAKER if maker else LINEAR_TAKER), market.quote
            self._trade_position(market, qty if order.side == "Buy" else -qty, price)
            self._add(market.quote, -fee)
        now = self.now_ms()
        order.filled += qty
        order.value += value
        order.fee += fee
        order.fee_coin = coin
        order.status = "Filled" if order.qty - order.filled <= 1e-12 else "PartiallyFilled"
        order.updated_ms = now
        self.executions.append(Execution(str(uuid.uuid4()), order, qty, price, fee, coin, now, is_maker=maker))

    def set_price(self, category: str, symbol: str, price: float) -> None:
        """Move a market; its resting orders that the new price crosses fill at their limit, as makers."""
        market = self.market(category, symbol)
        market.price = price
        for order in self.orders:
            if order.market is market and order.status in OPEN_STATUSES and _crosses(order, price):
                self.fill(order, order.price or price)

    def locked(self, coin: str) -> float:
        """What the wallet's open spot orders hold of ``coin`` (a buy its quote, a sell its base)."""
        total = 0.0
        for order in self.orders:
            if order.market.category != "spot" or order.status not in OPEN_STATUSES:
                continue
            left = order.qty - order.filled
            if order.side == "Buy" and order.market.quote == coin:
                total += left * (order.price or order.market.price)
            elif order.side == "Sell" and order.market.base == coin:
                total += left
        return total

    def _trade_position(self, market: BybitMarket, signed: float, price: float) -> None:
        position = self.positions.setdefault(market.symbol, Position())
        if position.size == 0 or (position.size > 0) == (signed > 0):
            total = position.size + signed
            position.entry = (position.entry * position.size + price * signed) / total
            position.size = total
            return
        closed = min(abs(signed), abs(position.size))
        pnl = closed * (price - position.entry) * (1 if position.size > 0 else -1)
        self._add(market.quote, pnl)
        remainder = position.size + signed
        if abs(remainder) < 1e-12:
            position.size, position.entry = 0.0, 0.0
        elif (remainder > 0) != (position.size > 0):
            position.size, position.entry = remainder, price
        else:
            position.size = remainder

    def _add(self, coin: str, amount: float) -> None:
        self.wallet[coin] = self.wallet.get(coin, 0.0) + amount

    def cancel(self, order_id: str | None, link_id: str | None) -> Order:
        order = self.find(order_id, link_id)
        if order is None or order.status not in OPEN_STATUSES:
            raise BybitRejectError(110001, "order not exists or too late to cancel")
        partly = order.status == "PartiallyFilled" and order.market.category == "spot"
        order.status = "PartiallyFilledCanceled" if partly else "Cancelled"
        order.updated_ms = self.now_ms()
        return order

    def find(self, order_id: str | None, link_id: str | None) -> Order | None:
        for order in self.orders:
            if (order_id and order.order_id == order_id) or (link_id and order.link_id == link_id):
                return order
        return None

    # ------------------------------------------------------------------ account
    def unrealised(self, symbol: str) -> float:
        position = self.positions.get(symbol)
        market = next((m for (c, s), m in self.markets.items() if c == "linear" and s == symbol), None)
        if position is None or market is None or position.size == 0:
            return 0.0
        return position.size * (market.price - position.entry)

    def initial_margin(self, coin: str) -> float:
        total = 0.0
        for (category, symbol), market in self.markets.items():
            position = self.positions.get(symbol)
            if category == "linear" and market.quote == coin and position is not None and position.size:
                total += abs(position.size) * market.price / self.leverage.get(symbol, 10.0)
        return total

    def available(self, coin: str) -> float:
        upl = sum(self.unrealised(s) for (c, s), m in self.markets.items() if c == "linear" and m.quote == coin)
        return self.wallet.get(coin, 0.0) + upl - self.initial_margin(coin)


def _crosses(order: Order, price: float) -> bool:
    """Whether an order trades at ``price`` (a market order always does)."""
    if order.price is None:
        return True
    return order.price >= price if order.side == "Buy" else order.price <= price


def _on_grid(qty: float, step: str) -> bool:
    ratio = Decimal(repr(qty)) / Decimal(step)
    return qty > 0 and ratio == ratio.to_integral_value()
