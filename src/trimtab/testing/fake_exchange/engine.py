"""The fake exchange's matching engine and accounts: a small, deterministic model of a Binance account.

Three families share one engine: ``spot`` (``/api/v3``), ``usdm`` (USD-M perpetuals, ``/fapi``) and ``coinm``
(COIN-M inverse perpetuals, ``/dapi``). Each has its own markets, orders, trades and wallet, as on Binance
(spot balances, the USD-M wallet and the COIN-M wallet are separate; ``/sapi/v1/asset/transfer`` moves
assets between them). Prices move only when a test says so (:meth:`Engine.set_price`); market orders fill
at the touch, limit orders rest until the book crosses them (then fill at their limit price, as a maker) or
until a test fills them explicitly (:meth:`Engine.fill`).

Fees as Binance charges them without BNB: a spot buy pays its commission in the base asset it receives, a
spot sell in the quote; futures pay in their margin asset. Orders are checked against the market's filters
and the client-id rule first (:mod:`~trimtab.testing.fake_exchange.rules`), then against funds, margin and
leverage brackets (:mod:`~trimtab.testing.fake_exchange.futures`).

Simplifications, on purpose: a futures margin check ignores unrealised PnL; the book has unlimited depth at
the touch; the average price of the percent-price filters is the current price.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trimtab.testing.fake_exchange import futures, rules
from trimtab.testing.fake_exchange.errors import ExchangeRejectError
from trimtab.testing.fake_exchange.futures import FakePosition
from trimtab.testing.fake_exchange.records import FakeOrder, FakeTrade, Family, MarketSpec

if TYPE_CHECKING:
    from trimtab.testing.fake_exchange.transfers import FakeTransfer


__all__ = ["Engine", "ExchangeRejectError", "FakeOrder", "FakePosition", "FakeTrade", "Family", "MarketSpec"]


@dataclass
class Engine:
    """Accounts, markets, orders and trades; every public method is thread-safe."""

    taker_fee: float = 0.001
    maker_fee: float = 0.001
    markets: dict[tuple[Family, str], MarketSpec] = field(default_factory=dict)
    spot_balances: dict[str, float] = field(default_factory=dict)
    futures_wallet: dict[str, float] = field(default_factory=dict)
    coinm_wallet: dict[str, float] = field(default_factory=dict)
    positions: dict[str, FakePosition] = field(default_factory=dict)
    dual_side_position: bool = False
    orders: list[FakeOrder] = field(default_factory=list)
    trades: list[FakeTrade] = field(default_factory=list)
    transfers: list[FakeTransfer] = field(default_factory=list)
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
            rules.check_client_order_id(family, client_order_id)
            self._check_filters(spec, side, type_, amount, price, reduce_only)
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
                contract_size=spec.contract_size,
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
        self, spec: MarketSpec, side: str, type_: str, amount: float, price: float | None, reduce_only: bool
    ) -> None:
        rules.check_quantity(spec, amount)
        if type_ != "MARKET":
            if price is None or price <= 0:
                raise ExchangeRejectError(400, -1102, "Mandatory parameter 'price' was not sent.")
            rules.check_price(spec, price)
            rules.check_percent_price(spec, side, price)
        reference = price if price is not None and type_ != "MARKET" else spec.price
        rules.check_notional(spec, amount * reference, reduce_only)

    def _check_spot_funds(self, spec: MarketSpec, side: str, amount: float, price: float) -> None:
        # a buy pays its commission in the base asset it receives: it needs the notional in the quote only
        needed, asset = (amount * price, spec.quote) if side == "BUY" else (amount, spec.base)
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

    def wallet(self, family: Family) -> dict[str, float]:
        """The balances of one wallet: spot, USD-M or COIN-M."""
        return {"spot": self.spot_balances, "usdm": self.futures_wallet, "coinm": self.coinm_wallet}[family]

    def margin_used(self, family: Family, asset: str) -> float:
        """Initial margin held in ``asset`` by a futures wallet's positions and open orders."""
        used = 0.0
        for (fam, symbol_id), spec in self.markets.items():
            if fam != family or futures.margin_asset(spec) != asset:
                continue
            position = self.positions.get(symbol_id, FakePosition())
            if position.amount != 0:
                used += futures.initial_margin(spec, position)
            for o in self.orders:
                if o.family == family and o.symbol == symbol_id and o.is_open and not o.reduce_only:
                    size = futures.notional(spec, o.amount - o.filled, o.price or spec.price)
                    used += size / position.leverage
        return used

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
        futures.check_bracket(spec, position, signed, price)
        asset = futures.margin_asset(spec)
        available = self.wallet(spec.family).get(asset, 0.0) - self.margin_used(spec.family, asset)
        if futures.notional(spec, amount, price) / position.leverage > available + 1e-9:
            raise ExchangeRejectError(400, -2019, "Margin is insufficient.")

    def _crosses(self, order: FakeOrder, spec: MarketSpec) -> bool:
        if order.price is None:
            return True
        return order.price >= spec.ask if order.side == "BUY" else order.price <= spec.bid

    def _execute(self, order: FakeOrder, quantity: float, price: float, maker: bool) -> None:
        if quantity <= 0:
            return
        spec = self.market(order.family, order.symbol)
        rate = self.maker_fee if maker else self.taker_fee
        realized, fee_asset = 0.0, spec.quote
        if order.family == "spot":
            fee, fee_asset = self._settle_spot(spec, order.side, quantity, price, rate)
        else:
            position = self.positions.setdefault(spec.id, FakePosition())
            signed = quantity if order.side == "BUY" else -quantity
            realized = futures.apply_fill(spec, position, signed, price)
            fee_asset = futures.margin_asset(spec)
            fee = futures.notional(spec, quantity, price) * rate
            wallet = self.wallet(spec.family)
            wallet[fee_asset] = wallet.get(fee_asset, 0.0) + realized - fee
        order.filled += quantity
        order.quote_filled += quantity * price
        order.coin_filled += quantity * spec.contract_size / price if spec.family == "coinm" else 0.0
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
                fee_asset=fee_asset,
                maker=maker,
                time_ms=order.updated_ms,
                realized_pnl=realized,
                contract_size=spec.contract_size,
            )
        )

    def _settle_spot(
        self, spec: MarketSpec, side: str, quantity: float, price: float, rate: float
    ) -> tuple[float, str]:
        """Move spot balances for a fill; returns the commission and its asset (the asset received)."""
        notional = quantity * price
        balances = self.spot_balances
        if side == "BUY":
            fee = quantity * rate
            balances[spec.base] = balances.get(spec.base, 0.0) + quantity - fee
            balances[spec.quote] = balances.get(spec.quote, 0.0) - notional
            return fee, spec.base
        fee = notional * rate
        balances[spec.base] = balances.get(spec.base, 0.0) - quantity
        balances[spec.quote] = balances.get(spec.quote, 0.0) + notional - fee
        return fee, spec.quote
