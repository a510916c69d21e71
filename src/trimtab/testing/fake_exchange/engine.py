"""The fake exchange's matching engine and accounts: a small, deterministic model of a Binance account.

Two families share one engine: ``spot`` (``/api/v3``) and ``usdm`` (USD-M perpetuals, ``/fapi``). Each has
its own markets, orders and trades, as on Binance. Prices move only when a test says so
(:meth:`Engine.set_price`); market orders fill at the touch, limit orders rest until the book crosses them
(then fill at their limit price, as a maker) or until a test fills them explicitly (:meth:`Engine.fill`).

Simplifications, on purpose: fees are always charged in the quote (settlement) currency; a perpetual's
margin check ignores unrealised PnL; the book has unlimited depth at the touch.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Family = Literal["spot", "usdm"]

_FINAL = frozenset({"FILLED", "CANCELED", "REJECTED", "EXPIRED"})


class ExchangeRejectError(Exception):
    """A Binance error answer: HTTP status, Binance error code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{status} {code} {message}")


@dataclass
class MarketSpec:
    """One market of the fake: exchange id (``BTCUSDT``), assets, filters and the current book."""

    family: Family
    id: str
    base: str
    quote: str
    price: float
    amount_step: str = "0.00001"
    min_amount: str = "0.00001"
    tick: str = "0.01"
    min_notional: float = 5.0
    spread: float = 0.0002
    funding_rate: float = 0.0001
    funding_interval_hours: int = 8
    mark: float | None = None

    @property
    def bid(self) -> float:
        return self.price * (1.0 - self.spread / 2.0)

    @property
    def ask(self) -> float:
        return self.price * (1.0 + self.spread / 2.0)

    @property
    def mark_price(self) -> float:
        return self.mark if self.mark is not None else self.price


@dataclass
class FakeOrder:
    family: Family
    order_id: int
    client_order_id: str
    symbol: str
    side: str  # BUY | SELL
    type: str  # LIMIT | MARKET | LIMIT_MAKER
    time_in_force: str
    amount: float
    price: float | None
    reduce_only: bool
    created_ms: int
    visible_after: float = 0.0  # monotonic seconds; invisible to queries before
    filled: float = 0.0
    quote_filled: float = 0.0
    fee: float = 0.0
    status: str = "NEW"
    updated_ms: int = 0

    @property
    def is_open(self) -> bool:
        return self.status not in _FINAL

    @property
    def average_price(self) -> float:
        return self.quote_filled / self.filled if self.filled > 0 else 0.0


@dataclass
class FakeTrade:
    family: Family
    trade_id: int
    order_id: int
    symbol: str
    side: str
    amount: float
    price: float
    fee: float
    fee_asset: str
    maker: bool
    time_ms: int
    realized_pnl: float = 0.0


@dataclass
class FakePosition:
    amount: float = 0.0
    entry_price: float = 0.0
    leverage: int = 20
    margin_type: str = "cross"


@dataclass
class Engine:
    """Accounts, markets, orders and trades; every public method is thread-safe."""

    taker_fee: float = 0.001
    maker_fee: float = 0.001
    markets: dict[tuple[Family, str], MarketSpec] = field(default_factory=dict)
    spot_balances: dict[str, float] = field(default_factory=dict)
    futures_wallet: dict[str, float] = field(default_factory=dict)
    positions: dict[str, FakePosition] = field(default_factory=dict)
    dual_side_position: bool = False
    orders: list[FakeOrder] = field(default_factory=list)
    trades: list[FakeTrade] = field(default_factory=list)
    invisible_for: float = 0.0
    clock: Callable[[], float] = time.time
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # ----------------------------------------------------------------- setup
    def add_market(self, spec: MarketSpec) -> None:
        with self._lock:
            self.markets[(spec.family, spec.id)] = spec

    def market(self, family: Family, symbol_id: str) -> MarketSpec:
        spec = self.markets.get((family, symbol_id))
        if spec is None:
            raise ExchangeRejectError(400, -1121, "Invalid symbol.")
        return spec

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def set_price(self, family: Family, symbol_id: str, price: float) -> None:
        """Move a market's price; resting limit orders that the new book crosses fill at their limit."""
        with self._lock:
            spec = self.market(family, symbol_id)
            spec.price = price
            for order in self.orders:
                if (
                    order.family == family
                    and order.symbol == symbol_id
                    and order.is_open
                    and self._crosses(order, spec)
                ):
                    self._execute(order, order.amount - order.filled, order.price or price, maker=True)

    # ----------------------------------------------------------------- orders
    def place(
        self,
        family: Family,
        symbol_id: str,
        side: str,
        type_: str,
        amount: float,
        price: float | None,
        client_order_id: str,
        time_in_force: str = "GTC",
        reduce_only: bool = False,
    ) -> FakeOrder:
        """Validate and accept an order, then match it against the book.

        Raises
        ------
        ExchangeRejectError
            With Binance's code for the filter or balance check that failed.
        """
        with self._lock:
            spec = self.market(family, symbol_id)
            if any(o.client_order_id == client_order_id and o.is_open for o in self.orders if o.family == family):
                if family == "spot":
                    raise ExchangeRejectError(400, -2010, "Duplicate order sent.")
                raise ExchangeRejectError(400, -4116, "ClientOrderId is duplicated.")
            self._check_filters(spec, type_, amount, price, reduce_only)
            reference = spec.ask if side == "BUY" else spec.bid
            effective = price if price is not None and type_ != "MARKET" else reference
            post_only = type_ == "LIMIT_MAKER" or time_in_force == "GTX"
            order = FakeOrder(
                family=family,
                order_id=next(self._ids),
                client_order_id=client_order_id,
                symbol=symbol_id,
                side=side,
                type=type_,
                time_in_force=time_in_force,
                amount=amount,
                price=price if type_ != "MARKET" else None,
                reduce_only=reduce_only,
                created_ms=self.now_ms(),
                visible_after=time.monotonic() + self.invisible_for,
            )
            order.updated_ms = order.created_ms
            if post_only and self._crosses(order, spec):
                if family == "spot":
                    raise ExchangeRejectError(400, -2010, "Order would immediately match and take.")
                raise ExchangeRejectError(
                    400, -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected."
                )
            if family == "spot":
                self._check_spot_funds(spec, side, amount, effective)
            else:
                self._check_futures_order(spec, side, amount, effective, reduce_only)
            self.orders.append(order)
            if type_ == "MARKET" or self._crosses(order, spec):
                self._execute(order, amount, reference, maker=False)
            return order

    def find(self, family: Family, symbol_id: str, client_order_id: str | None, order_id: int | None) -> FakeOrder:
        """The newest visible order with this client id (or exchange id); -2013 when there is none."""
        with self._lock:
            now = time.monotonic()
            for order in reversed(self.orders):
                if order.family != family or order.symbol != symbol_id or order.visible_after > now:
                    continue
                if (client_order_id is not None and order.client_order_id == client_order_id) or (
                    order_id is not None and order.order_id == order_id
                ):
                    return order
            raise ExchangeRejectError(400, -2013, "Order does not exist.")

    def cancel(self, family: Family, symbol_id: str, client_order_id: str | None, order_id: int | None) -> FakeOrder:
        with self._lock:
            try:
                order = self.find(family, symbol_id, client_order_id, order_id)
            except ExchangeRejectError:
                raise ExchangeRejectError(400, -2011, "Unknown order sent.") from None
            if not order.is_open:
                raise ExchangeRejectError(400, -2011, "Unknown order sent.")
            order.status = "CANCELED"
            order.updated_ms = self.now_ms()
            return order

    def open_orders(self, family: Family, symbol_id: str | None) -> list[FakeOrder]:
        with self._lock:
            now = time.monotonic()
            return [
                o
                for o in self.orders
                if o.family == family and o.is_open and o.visible_after <= now and symbol_id in (None, o.symbol)
            ]

    def fill(
        self, family: Family, client_order_id: str, amount: float | None = None, price: float | None = None
    ) -> None:
        """Fill a resting order (partly, with ``amount``) at ``price`` (default: its limit), as a maker."""
        with self._lock:
            order = next(
                o for o in reversed(self.orders) if o.family == family and o.client_order_id == client_order_id
            )
            if not order.is_open:
                raise ValueError(f"order {client_order_id} is {order.status}")
            quantity = order.amount - order.filled if amount is None else min(amount, order.amount - order.filled)
            fill_price = price if price is not None else (order.price or self.market(family, order.symbol).price)
            self._execute(order, quantity, fill_price, maker=True)

    def trades_of(self, family: Family, symbol_id: str, since_ms: int | None, order_id: int | None) -> list[FakeTrade]:
        with self._lock:
            return [
                t
                for t in self.trades
                if t.family == family
                and t.symbol == symbol_id
                and (since_ms is None or t.time_ms >= since_ms)
                and (order_id is None or t.order_id == order_id)
            ]

    # ----------------------------------------------------------------- internals
    def _check_filters(
        self, spec: MarketSpec, type_: str, amount: float, price: float | None, reduce_only: bool
    ) -> None:
        step = Decimal(spec.amount_step)
        quantity = Decimal(repr(amount))
        if quantity <= 0 or quantity < Decimal(spec.min_amount) or quantity % step != 0:
            raise ExchangeRejectError(400, -1013, "Filter failure: LOT_SIZE")
        if type_ != "MARKET" and (price is None or price <= 0):
            raise ExchangeRejectError(400, -1013, "Filter failure: PRICE_FILTER")
        notional = amount * (price if price is not None and type_ != "MARKET" else spec.price)
        if notional < spec.min_notional and not reduce_only:
            if spec.family == "spot":
                raise ExchangeRejectError(400, -1013, "Filter failure: NOTIONAL")
            raise ExchangeRejectError(
                400,
                -4164,
                f"Order's notional must be no smaller than {spec.min_notional} (unless you choose reduce only).",
            )

    def _check_spot_funds(self, spec: MarketSpec, side: str, amount: float, price: float) -> None:
        if side == "BUY":
            needed, asset = amount * price * (1.0 + self.taker_fee), spec.quote
        else:
            needed, asset = amount, spec.base
        locked = sum(self._locked_by(o, asset) for o in self.orders if o.family == "spot" and o.is_open)
        if self.spot_balances.get(asset, 0.0) - locked < needed - 1e-12:
            raise ExchangeRejectError(400, -2010, "Account has insufficient balance for requested action.")

    def _locked_by(self, order: FakeOrder, asset: str) -> float:
        spec = self.market(order.family, order.symbol)
        remaining = order.amount - order.filled
        if order.side == "BUY" and asset == spec.quote:
            return remaining * (order.price or spec.price)
        if order.side == "SELL" and asset == spec.base:
            return remaining
        return 0.0

    def _check_futures_order(self, spec: MarketSpec, side: str, amount: float, price: float, reduce_only: bool) -> None:
        position = self.positions.setdefault(spec.id, FakePosition())
        signed = amount if side == "BUY" else -amount
        if reduce_only:
            if (
                position.amount == 0
                or (position.amount > 0) == (signed > 0)
                or abs(signed) > abs(position.amount) + 1e-12
            ):
                raise ExchangeRejectError(400, -2022, "ReduceOnly Order is rejected.")
            return
        margin_used = sum(
            abs(p.amount) * p.entry_price / p.leverage for p in self.positions.values() if p.amount != 0
        ) + sum(
            (o.amount - o.filled) * (o.price or spec.price) / self.positions.get(o.symbol, FakePosition()).leverage
            for o in self.orders
            if o.family == "usdm" and o.is_open and not o.reduce_only
        )
        available = self.futures_wallet.get(spec.quote, 0.0) - margin_used
        if amount * price / position.leverage > available + 1e-9:
            raise ExchangeRejectError(400, -2019, "Margin is insufficient.")

    def _crosses(self, order: FakeOrder, spec: MarketSpec) -> bool:
        if order.price is None:
            return True
        return order.price >= spec.ask if order.side == "BUY" else order.price <= spec.bid

    def _execute(self, order: FakeOrder, quantity: float, price: float, maker: bool) -> None:
        if quantity <= 0:
            return
        spec = self.market(order.family, order.symbol)
        notional = quantity * price
        fee = notional * (self.maker_fee if maker else self.taker_fee)
        realized = 0.0
        if order.family == "spot":
            sign = 1.0 if order.side == "BUY" else -1.0
            self.spot_balances[spec.base] = self.spot_balances.get(spec.base, 0.0) + sign * quantity
            self.spot_balances[spec.quote] = self.spot_balances.get(spec.quote, 0.0) - sign * notional - fee
        else:
            realized = self._apply_to_position(spec, order.side, quantity, price)
            self.futures_wallet[spec.quote] = self.futures_wallet.get(spec.quote, 0.0) + realized - fee
        order.filled += quantity
        order.quote_filled += notional
        order.fee += fee
        order.updated_ms = self.now_ms()
        order.status = "FILLED" if order.filled >= order.amount - 1e-12 else "PARTIALLY_FILLED"
        self.trades.append(
            FakeTrade(
                family=order.family,
                trade_id=next(self._ids),
                order_id=order.order_id,
                symbol=order.symbol,
                side=order.side,
                amount=quantity,
                price=price,
                fee=fee,
                fee_asset=spec.quote,
                maker=maker,
                time_ms=order.updated_ms,
                realized_pnl=realized,
            )
        )

    def _apply_to_position(self, spec: MarketSpec, side: str, quantity: float, price: float) -> float:
        position = self.positions.setdefault(spec.id, FakePosition())
        signed = quantity if side == "BUY" else -quantity
        realized = 0.0
        if position.amount == 0 or (position.amount > 0) == (signed > 0):
            total = position.amount + signed
            position.entry_price = (abs(position.amount) * position.entry_price + quantity * price) / abs(total)
            position.amount = total
            return 0.0
        closing = min(abs(signed), abs(position.amount))
        direction = 1.0 if position.amount > 0 else -1.0
        realized = closing * (price - position.entry_price) * direction
        position.amount += signed
        if abs(position.amount) < 1e-12:
            position.amount, position.entry_price = 0.0, 0.0
        elif (position.amount > 0) != (direction > 0):
            position.entry_price = price  # flipped: the rest opened at this price
        return realized
