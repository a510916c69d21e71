"""A ccxt venue's orders: placing, cancelling and looking them up by client id, and reading their fills.

Amounts leave as ccxt's ``amount_to_precision`` (truncating); an amount that rounds to zero, or an order below
the market's minimum amount or notional, is refused before anything is sent. A create is never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import ccxt

from trimtab.errors import OrderRejectedError, TrimtabError
from trimtab.venues.ccxt import parsing
from trimtab.venues.ccxt.calls import ExchangeCalls
from trimtab.venues.ccxt.presend import amount_to_send
from trimtab.venues.exchange_rules import ExchangeRules
from trimtab.venues.ports import Fill, OrderRequest, OrderState, OrderStatus, OrderType


def _type_params(kind: str, sub_type: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"type": kind}
    if sub_type:
        params["subType"] = sub_type
    return params


class CcxtOrders:
    """The order side of a ccxt venue; it remembers each order's exchange id against its client id.

    Parameters
    ----------
    markets:
        The exchange's raw ccxt markets by symbol (loaded on first use).
    """

    def __init__(
        self,
        exchange: Any,
        *,
        name: str,
        rules: ExchangeRules | None,
        calls: ExchangeCalls,
        markets: Callable[[], dict[str, Any]],
        redact: Callable[[str], str],
    ) -> None:
        self._exchange = exchange
        self._name = name
        self._rules = rules
        self._calls = calls
        self._markets = markets
        self._redact = redact
        self._client_ids: dict[str, str] = {}  # exchange order id -> client order id, for fills
        self._exchange_ids: dict[str, str] = {}  # client order id -> exchange order id

    def create(
        self, request: OrderRequest, market: dict[str, Any], reference_price: Callable[[], float | None]
    ) -> OrderState:
        """Send ``request`` on ``market`` once (never retried); the order as acknowledged, with its fee."""
        if self._rules is not None:
            self._rules.check_client_order_id(self._name, request.client_order_id)
        size = parsing.unit_size(market)
        amount = amount_to_send(self._exchange, request, market, reference_price, self._name, self._redact)
        price = self._limit_price(request)
        params = self._create_params(request, market)
        self._calls.limiter.acquire()
        try:
            raw = self._exchange.create_order(
                request.symbol, request.type.value, request.side.value, amount, price, params
            )
        except Exception as error:
            raise self._calls.translate(
                error, "create_order", creating=True, client_order_id=request.client_order_id
            ) from None
        # some exchanges (Bybit) acknowledge a new order with its ids only: the rest is what was sent
        sent: dict[str, Any] = {"symbol": request.symbol, "side": request.side.value, "type": request.type.value}
        sent.update(amount=amount, price=price)
        state = parsing.parse_order(
            {**raw, **{k: v for k, v in sent.items() if raw.get(k) is None}},
            size=size,
            client_order_id=request.client_order_id,
        )
        self._remember(state)
        if raw.get("status") is None:
            state = self._looked_up_after_ack(request, state)
        try:
            return self._with_trade_fees(state, request.symbol)
        except TrimtabError:
            return state  # the order stands; its fee will come with its fills

    def _limit_price(self, request: OrderRequest) -> float | None:
        if request.type is not OrderType.LIMIT:
            return None
        if request.price is None or request.price <= 0:
            raise OrderRejectedError(f"{self._name}: a limit order needs a positive price")
        return float(self._exchange.price_to_precision(request.symbol, request.price))

    @staticmethod
    def _create_params(request: OrderRequest, market: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"clientOrderId": request.client_order_id}
        if request.reduce_only and market.get("contract"):
            params["reduceOnly"] = True
        if request.post_only:
            params["postOnly"] = True
        return params

    def cancel(self, client_order_id: str, symbol: str) -> OrderState:
        """Cancel an order; a cancel that finds it final already answers its state as looked up."""

        def cancel() -> OrderState | None:
            try:
                known = self._exchange_ids.get(client_order_id)  # some exchanges cancel by their own id only
                raw = self._exchange.cancel_order(known, symbol, {"clientOrderId": client_order_id})
            except ccxt.OrderNotFound:
                return None  # already final (filled or canceled) or not visible yet: look it up below
            except Exception as error:
                raise self._calls.translate(error, "cancel_order") from None
            if raw.get("side") is None:
                return None  # acknowledged with its ids only (Bybit): the order's state is looked up below
            return self._parsed(raw, symbol, client_order_id)

        state = self._calls.retrying(cancel)
        if state is None:
            found = self.fetch(client_order_id, symbol)
            if found is None:
                raise OrderRejectedError(f"{self._name}: cannot cancel {client_order_id}: the venue does not know it")
            return found
        return self._known(state, symbol)

    def fetch(self, client_order_id: str, symbol: str) -> OrderState | None:
        """The order with this client id, or None when the venue does not know it."""

        def fetch() -> OrderState | None:
            try:
                known = self._exchange_ids.get(client_order_id)
                raw = self._exchange.fetch_order(known, symbol, {"clientOrderId": client_order_id})
            except ccxt.OrderNotFound:
                return None
            except (ccxt.ArgumentsRequired, ccxt.NotSupported):
                # the exchange cannot look an order up by client id: search its order lists instead
                return self._find_in_order_lists(client_order_id, symbol)
            except Exception as error:
                raise self._calls.translate(error, "fetch_order") from None
            return self._parsed(raw, symbol, client_order_id)

        state = self._calls.retrying(fetch)
        return None if state is None else self._known(state, symbol)

    def open_orders(self, symbol: str | None = None) -> list[OrderState]:
        """The open orders of one symbol, or of every market type the venue lists."""
        if symbol is not None:
            calls: list[tuple[str | None, dict[str, Any]]] = [(symbol, {})]
        else:
            # one call per market type and sub-type: Binance answers spot, USD-M and COIN-M at different endpoints
            kinds = sorted({(str(m.get("type")), m.get("subType")) for m in self._markets().values()}, key=str)
            calls = [(None, _type_params(kind, sub)) for kind, sub in kinds] if len(kinds) > 1 else [(None, {})]
        result = []
        for target, params in calls:
            raw = self._calls.read(
                "fetch_open_orders",
                partial(self._exchange.fetch_open_orders, target, None, None, params),
            )
            for order in raw:
                state = parsing.parse_order(order, size=self.size(str(order.get("symbol"))))
                self._remember(state)
                result.append(state)
        return result

    def fills(self, symbol: str, since: datetime | None, page_size: int) -> list[Fill]:
        """The account's fills of ``symbol`` since a moment (the most recent page without one), oldest first."""
        since_ms = int(since.timestamp() * 1000) if since is not None else None
        size = self.size(symbol)
        fills: dict[str, Fill] = {}
        while True:
            page = self._calls.read(
                "fetch_my_trades", partial(self._exchange.fetch_my_trades, symbol, since_ms, page_size)
            )
            added = 0
            for trade in page:
                order_id = str(trade.get("order"))
                client_id = trade.get("clientOrderId") or self._client_ids.get(order_id)
                fill = parsing.parse_trade(
                    {**trade, "symbol": trade.get("symbol") or symbol}, size=size, client_order_id=client_id
                )
                if fill.trade_id not in fills:  # a replayed event is the same trade: keep it once
                    fills[fill.trade_id] = fill
                    added += 1
            # without a start the exchange answers its most recent page; with one, page forward in time from
            # the last trade's millisecond (inclusive: trades sharing it come again and are dropped by id)
            if since_ms is None or len(page) < page_size:
                break
            last_ms = max(int(parsing.number(t.get("timestamp"), 0.0) or 0) for t in page)
            # a page that brought nothing new is a millisecond holding more trades than a page: move past it
            since_ms = last_ms if added and last_ms > since_ms else max(last_ms, since_ms) + 1
        return sorted(fills.values(), key=lambda f: (f.timestamp, f.trade_id))

    def size(self, symbol: str) -> float:
        """The unit size of ``symbol``'s amounts (a contract's size; 1 for spot or an unknown market)."""
        market = self._markets().get(symbol)
        return parsing.unit_size(market) if market else 1.0

    def _parsed(self, raw: dict[str, Any], symbol: str, client_order_id: str) -> OrderState:
        return parsing.parse_order(
            {**raw, "symbol": raw.get("symbol") or symbol}, size=self.size(symbol), client_order_id=client_order_id
        )

    def _known(self, state: OrderState, symbol: str) -> OrderState:
        """Remember an order's ids and complete its fee."""
        self._remember(state)
        return self._with_trade_fees(state, symbol)

    def _remember(self, state: OrderState) -> None:
        if state.exchange_order_id and state.client_order_id:
            self._client_ids[state.exchange_order_id] = state.client_order_id
            self._exchange_ids[state.client_order_id] = state.exchange_order_id

    def _looked_up_after_ack(self, request: OrderRequest, sent: OrderState) -> OrderState:
        """The order as the exchange holds it, after an acknowledgement carrying its ids only (Bybit).

        A post-only order that the exchange accepted and then cancelled because it would take (Bybit's
        ``EC_PostOnlyWillTakeLiquidity``) is refused here, as exchanges that refuse it outright do. A lookup that
        fails or finds nothing yet leaves the acknowledged state: the order stands and is followed up later.
        """
        try:
            found = self.fetch(request.client_order_id, request.symbol)
        except TrimtabError:
            return sent
        if found is None:
            return sent
        if request.post_only and found.status is OrderStatus.CANCELED and found.filled == 0:
            raise OrderRejectedError(
                f"{self._name}: post-only order {request.client_order_id} would take: the exchange cancelled it"
            )
        return found

    def _find_in_order_lists(self, client_order_id: str, symbol: str) -> OrderState | None:
        params = self._rules.order_lookup_params(client_order_id) if self._rules is not None else {}
        try:
            found = parsing.find_in_order_lists(self._exchange, client_order_id, symbol, params)
        except Exception as error:
            raise self._calls.translate(error, "fetch_order") from None
        return (
            None
            if found is None
            else parsing.parse_order(found, size=self.size(symbol), client_order_id=client_order_id)
        )

    def _with_trade_fees(self, state: OrderState, symbol: str) -> OrderState:
        """Binance's order queries carry no fee: sum it from the order's trades when it has fills."""
        return parsing.with_trade_fees(self._exchange, state, symbol, self._calls.read)
