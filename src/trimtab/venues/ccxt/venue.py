"""The ccxt venue: a typed adapter over ccxt's synchronous client (Binance spot and USD-M, and others).

Features are gated on the exchange's static ``has[...]`` capabilities. Amounts leave as ccxt's
``amount_to_precision`` (truncating); an amount that rounds to zero, or an order below the market's minimum
amount or notional, is refused before anything is sent. Reads and cancels are retried with bounded backoff
and jitter through one rate limiter per key; creates never are.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Literal, TypeVar

import ccxt

from trimtab.errors import BadInputError, OrderRejectedError, PositionModeError, TrimtabError
from trimtab.venues.ccxt import margin, market_reads, parsing, transfers
from trimtab.venues.ccxt.credentials import Credentials, RedactingLogger
from trimtab.venues.ccxt.errors import retry_after_seconds, translate
from trimtab.venues.ccxt.presend import amount_to_send
from trimtab.venues.ccxt.retry import RateLimiter, RetryPolicy, call_with_retry, shared_limiter
from trimtab.venues.exchange_rules import ExchangeRules
from trimtab.venues.ports import (
    Fill,
    LeverageSetting,
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    Ticker,
    TransferRequest,
    TransferState,
    VenueMarginTier,
    VenueMarket,
    VenuePosition,
)

T = TypeVar("T")
PositionMode = Literal["one-way", "hedge"]


def _type_params(kind: str, sub_type: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"type": kind}
    if sub_type:
        params["subType"] = sub_type
    return params


class CcxtVenue:
    """A :class:`~trimtab.venues.ports.Venue` backed by a ccxt exchange instance.

    Parameters
    ----------
    exchange:
        A configured ccxt sync exchange (see :func:`build_ccxt_venue`).
    credentials:
        The keys the exchange was built with; used to redact them from messages and logs.
    position_mode:
        The configured position mode, checked against the account before derivatives are traded. Only
        ``"one-way"`` is supported (hedge mode needs a position side on every order).
    margin_mode:
        ``"cross"`` or ``"isolated"`` to set with the leverage, or None to leave the account's.
    rules:
        The exchange's rules (client id format, account-wide margin mode), or None for none.
    """

    def __init__(
        self,
        exchange: Any,
        *,
        credentials: Credentials | None = None,
        name: str | None = None,
        position_mode: PositionMode = "one-way",
        margin_mode: str | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
        rules: ExchangeRules | None = None,
    ) -> None:
        self._exchange = exchange
        self._rules = rules
        self._credentials = credentials
        self.name = name or str(exchange.id)
        if position_mode != "one-way":
            # hedge mode needs positionSide on every order and changes what reduceOnly means: not supported
            raise BadInputError("position_mode", "", f"{position_mode!r}: trimtab trades in one-way mode only")
        self._position_mode = position_mode
        self._margin_mode = margin_mode
        self._retry = retry or RetryPolicy()
        # ccxt's weighted limiter, when on, already spaces requests: ours then only keeps the venue's pauses.
        spacing = 0.0 if getattr(exchange, "enableRateLimit", False) else float(exchange.rateLimit or 0) / 1000.0
        self._limiter = limiter or shared_limiter(
            str(exchange.id), credentials.api_key if credentials else None, spacing
        )
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._markets: dict[str, VenueMarket] | None = None
        self._position_mode_checked = False
        self.fills_page_size = 500  # Binance's default page of trades
        self._client_ids: dict[str, str] = {}  # exchange order id -> client order id, for fills
        self._exchange_ids: dict[str, str] = {}  # client order id -> exchange order id
        exchange.logger = RedactingLogger(logging.getLogger("ccxt.base.exchange"), self._redact)

    def __repr__(self) -> str:
        keys = "set" if self._credentials else "none"
        return f"CcxtVenue(name={self.name!r}, exchange={self._exchange.id!r}, keys={keys})"

    # ------------------------------------------------------------------ markets and account
    def load_markets(self) -> dict[str, VenueMarket]:
        raw = self._read("load_markets", self._exchange.load_markets)
        mode = int(getattr(self._exchange, "precisionMode", ccxt.TICK_SIZE))
        markets = {}
        for market in raw.values():
            parsed = parsing.parse_market(market, mode)
            if parsed is not None:
                markets[parsed.symbol] = parsed
        self._markets = self._with_tiers(markets)
        self._check_position_mode()
        return dict(self._markets)

    def _with_tiers(self, markets: dict[str, VenueMarket]) -> dict[str, VenueMarket]:
        if self._credentials is None:  # the tiers are a private read
            return markets
        return margin.with_rule_tiers(self._exchange, markets, dict(self._exchange.markets or {}), self._read)

    def fetch_balances(self) -> dict[str, float]:
        balance = self._read("fetch_balance", self._exchange.fetch_balance)
        totals = dict(balance.get("total") or {})
        # a derivatives account's ccxt total includes unrealised PnL, which positions already carry
        totals.update(parsing.wallet_balances(balance.get("info")))
        balances = {str(asset): parsing.number(raw, 0.0) or 0.0 for asset, raw in totals.items()}
        return {asset: value for asset, value in balances.items() if value != 0.0}

    def fetch_positions(self) -> list[VenuePosition]:
        by_settle = self._rules is not None and self._rules.positions_by_settle_coin
        positions = margin.read_positions(
            self._exchange, self._raw_markets(), self.name, self._read, by_settle=by_settle
        )
        if positions and self._rules is not None and self._rules.account_margin_mode:
            positions = margin.with_account_margin_mode(self._exchange, positions, self._read)
        return positions

    def fetch_leverage_settings(self, symbols: Sequence[str]) -> dict[str, LeverageSetting]:
        """The account's leverage and margin mode per derivative symbol, as the exchange keeps them."""
        return margin.read_leverage_settings(self._exchange, self._raw_markets(), symbols, self._read)

    def fetch_margin_tiers(self, symbols: Sequence[str]) -> dict[str, tuple[VenueMarginTier, ...]]:
        """Maintenance-margin tiers per derivative symbol (ccxt ``fetch_leverage_tiers``), lowest first."""
        return margin.read_margin_tiers(self._exchange, self._raw_markets(), symbols, self._read)

    def fetch_tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        groups = self._groups(symbols)
        return market_reads.read_tickers(self._exchange, groups, self._raw_markets(), self._read)

    def fetch_funding_rates(self, symbols: Sequence[str]) -> dict[str, tuple[float, float]]:
        wanted = [s for s in symbols if self._raw_markets().get(s, {}).get("swap")]
        if not wanted:
            return {}
        return market_reads.read_funding(self._exchange, self._groups(wanted), self._read)

    # ------------------------------------------------------------------ orders
    def create_order(self, request: OrderRequest) -> OrderState:
        market = self._raw_markets().get(request.symbol)
        if market is None:
            raise OrderRejectedError(f"{self.name}: {request.symbol} is not a market of this venue")
        if market.get("contract"):
            self._check_position_mode()
        if self._rules is not None:
            self._rules.check_client_order_id(self.name, request.client_order_id)
        size = parsing.unit_size(market)
        amount = amount_to_send(
            self._exchange, request, market, lambda: self._reference_price(request.symbol), self.name, self._redact
        )
        price = None
        if request.type is OrderType.LIMIT:
            if request.price is None or request.price <= 0:
                raise OrderRejectedError(f"{self.name}: a limit order needs a positive price")
            price = float(self._exchange.price_to_precision(request.symbol, request.price))
        params: dict[str, Any] = {"clientOrderId": request.client_order_id}
        if request.reduce_only and market.get("contract"):
            params["reduceOnly"] = True
        if request.post_only:
            params["postOnly"] = True
        self._limiter.acquire()
        try:
            raw = self._exchange.create_order(
                request.symbol, request.type.value, request.side.value, amount, price, params
            )
        except Exception as error:
            raise self._translate(
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

    def cancel_order(self, client_order_id: str, symbol: str) -> OrderState:
        def cancel() -> OrderState | None:
            try:
                known = self._exchange_ids.get(client_order_id)  # some exchanges cancel by their own id only
                raw = self._exchange.cancel_order(known, symbol, {"clientOrderId": client_order_id})
            except ccxt.OrderNotFound:
                return None  # already final (filled or canceled) or not visible yet: look it up below
            except Exception as error:
                raise self._translate(error, "cancel_order") from None
            if raw.get("side") is None:
                return None  # acknowledged with its ids only (Bybit): the order's state is looked up below
            return parsing.parse_order(
                {**raw, "symbol": raw.get("symbol") or symbol}, size=self._size(symbol), client_order_id=client_order_id
            )

        state = call_with_retry(cancel, self._retry, self._limiter, self._rng, self._sleep)
        if state is None:
            found = self.fetch_order(client_order_id, symbol)
            if found is None:
                raise OrderRejectedError(f"{self.name}: cannot cancel {client_order_id}: the venue does not know it")
            return found
        self._remember(state)
        return self._with_trade_fees(state, symbol)

    def fetch_order(self, client_order_id: str, symbol: str) -> OrderState | None:
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
                raise self._translate(error, "fetch_order") from None
            return parsing.parse_order(
                {**raw, "symbol": raw.get("symbol") or symbol}, size=self._size(symbol), client_order_id=client_order_id
            )

        state = call_with_retry(fetch, self._retry, self._limiter, self._rng, self._sleep)
        if state is None:
            return None
        self._remember(state)
        return self._with_trade_fees(state, symbol)

    def fetch_open_orders(self, symbol: str | None = None) -> list[OrderState]:
        if symbol is not None:
            calls: list[tuple[str | None, dict[str, Any]]] = [(symbol, {})]
        else:
            # one call per market type and sub-type: Binance answers spot, USD-M and COIN-M at different endpoints
            kinds = sorted({(str(m.get("type")), m.get("subType")) for m in self._raw_markets().values()}, key=str)
            calls = [(None, _type_params(kind, sub)) for kind, sub in kinds] if len(kinds) > 1 else [(None, {})]
        result = []
        for target, params in calls:
            raw = self._read(
                "fetch_open_orders",
                partial(self._exchange.fetch_open_orders, target, None, None, params),
            )
            for order in raw:
                state = parsing.parse_order(order, size=self._size(str(order.get("symbol"))))
                self._remember(state)
                result.append(state)
        return result

    def fetch_fills(self, symbol: str, since: datetime | None = None) -> list[Fill]:
        since_ms = int(since.timestamp() * 1000) if since is not None else None
        size = self._size(symbol)
        fills: dict[str, Fill] = {}
        while True:
            page = self._read(
                "fetch_my_trades", partial(self._exchange.fetch_my_trades, symbol, since_ms, self.fills_page_size)
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
            if since_ms is None or len(page) < self.fills_page_size:
                break
            last_ms = max(int(parsing.number(t.get("timestamp"), 0.0) or 0) for t in page)
            # a page that brought nothing new is a millisecond holding more trades than a page: move past it
            since_ms = last_ms if added and last_ms > since_ms else max(last_ms, since_ms) + 1
        return sorted(fills.values(), key=lambda f: (f.timestamp, f.trade_id))

    def set_leverage(self, symbol: str, leverage: float) -> None:
        if self._margin_mode is not None and self._exchange.has.get("setMarginMode"):
            self._ignoring_no_change(
                "set_margin_mode", lambda: self._exchange.set_margin_mode(self._margin_mode, symbol)
            )
        if not self._exchange.has.get("setLeverage"):
            raise OrderRejectedError(f"{self.name}: the venue cannot set leverage")
        value = int(leverage) if float(leverage).is_integer() else leverage
        self._ignoring_no_change("set_leverage", lambda: self._exchange.set_leverage(value, symbol))

    def transfer(self, request: TransferRequest) -> TransferState:
        """Move an asset between two wallets of this exchange account (ccxt ``transfer``); never retried.

        Raises
        ------
        AmbiguousTransferError
            It may have happened: look it up with :meth:`fetch_transfers` before anything else.
        TransferRejectedError
            The exchange refused it.
        """
        self._raw_markets()
        params = transfers.client_id_params(self._rules, request.transfer_id)
        self._limiter.acquire()
        return transfers.send_transfer(self._exchange, request, self._translate, params)

    @property
    def keeps_transfer_ids(self) -> bool:
        """Whether the exchange keeps a client id with each transfer (Bybit), so one is looked up by it."""
        return self._rules is not None and self._rules.client_transfer_id is not None

    def fetch_transfer(
        self, transfer_id: str, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> TransferState | None:
        """The transfer sent under trimtab's ``transfer_id``, as the exchange lists it (None while it lists none).

        Raises
        ------
        TransferRejectedError
            The exchange keeps no client id for transfers (look them up with :meth:`fetch_transfers`).
        """
        self._raw_markets()
        wallets = (from_wallet, to_wallet)
        return transfers.transfer_by_id(self._exchange, self._rules, transfer_id, asset, wallets, since, self._read)

    def fetch_transfers(
        self, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> list[TransferState]:
        """The exchange's transfers of ``asset`` from one wallet to another since a moment."""
        self._raw_markets()
        return transfers.transfer_history(self._exchange, asset, from_wallet, to_wallet, since, self._read)

    def close(self) -> None:
        closer = getattr(self._exchange, "close", None)
        if callable(closer):
            closer()

    # ------------------------------------------------------------------ helpers
    def _redact(self, text: str) -> str:
        return self._credentials.redact(text) if self._credentials else text

    def _translate(self, error: Exception, operation: str, **kwargs: Any) -> Exception:
        if isinstance(error, ccxt.InvalidNonce):
            self._refresh_time_difference()
        headers = getattr(self._exchange, "last_response_headers", None)
        retry_after = retry_after_seconds(headers)
        if retry_after is None and headers and self._rules is not None and self._rules.rate_limit_pause is not None:
            exchange_ms = self._exchange.milliseconds() - float(self._exchange.options.get("timeDifference") or 0)
            retry_after = self._rules.rate_limit_pause(headers, exchange_ms)
        return translate(
            error,
            venue=self.name,
            operation=operation,
            retry_after=retry_after,
            redact=self._redact,
            **kwargs,
        )

    def _refresh_time_difference(self) -> None:
        """The exchange refused a request for its timestamp (Binance -1021): the clocks drifted apart since the
        offset was read at start, so read it again; the next attempt signs with the exchange's time."""
        if not self._exchange.options.get("adjustForTimeDifference"):
            return
        loader = getattr(self._exchange, "load_time_difference", None)
        if callable(loader):
            with contextlib.suppress(Exception):  # the request that failed is reported; this is a best effort
                loader()

    def _read(self, operation: str, call: Callable[[], T]) -> T:
        def attempt() -> T:
            try:
                return call()
            except Exception as error:
                raise self._translate(error, operation) from None

        return call_with_retry(attempt, self._retry, self._limiter, self._rng, self._sleep)

    def _ignoring_no_change(self, operation: str, call: Callable[[], Any]) -> None:
        try:
            self._read(operation, call)
        except Exception as error:
            if "no need to change" in str(error).lower() or "NoChange" in str(error) or "AlreadySet" in str(error):
                return  # the account already has this setting: a success
            raise

    def _raw_markets(self) -> dict[str, Any]:
        if self._markets is None:
            self.load_markets()
        markets: dict[str, Any] = self._exchange.markets or {}
        return markets

    def _size(self, symbol: str) -> float:
        market = self._raw_markets().get(symbol)
        return parsing.unit_size(market) if market else 1.0

    def _groups(self, symbols: Sequence[str]) -> list[list[str]]:
        markets = self._raw_markets()
        groups: dict[str, list[str]] = {}
        for symbol in symbols:
            market = markets.get(symbol)
            if market is None:
                raise BadInputError(self.name, symbol, "is not a market of this venue")
            groups.setdefault(f"{market.get('type')}:{market.get('subType')}", []).append(symbol)
        return list(groups.values())

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
            found = self.fetch_order(request.client_order_id, request.symbol)
        except TrimtabError:
            return sent
        if found is None:
            return sent
        if request.post_only and found.status is OrderStatus.CANCELED and found.filled == 0:
            raise OrderRejectedError(
                f"{self.name}: post-only order {request.client_order_id} would take: the exchange cancelled it"
            )
        return found

    def _find_in_order_lists(self, client_order_id: str, symbol: str) -> OrderState | None:
        params = self._rules.order_lookup_params(client_order_id) if self._rules is not None else {}
        try:
            found = parsing.find_in_order_lists(self._exchange, client_order_id, symbol, params)
        except Exception as error:
            raise self._translate(error, "fetch_order") from None
        return (
            None
            if found is None
            else parsing.parse_order(found, size=self._size(symbol), client_order_id=client_order_id)
        )

    def _with_trade_fees(self, state: OrderState, symbol: str) -> OrderState:
        """Binance's order queries carry no fee: sum it from the order's trades when it has fills."""
        return parsing.with_trade_fees(self._exchange, state, symbol, self._read)

    def _reference_price(self, symbol: str) -> float | None:
        ticker = self.fetch_tickers([symbol]).get(symbol)
        if ticker is None:
            return None
        return ticker.mid or ticker.last or None

    def _check_position_mode(self) -> None:
        if self._position_mode_checked or self._credentials is None:
            return
        hedged = margin.account_is_hedged(self._exchange, self._read)
        actual: PositionMode = "hedge" if hedged else "one-way"
        if hedged is not None and actual != self._position_mode:
            raise PositionModeError(
                f"{self.name}: the account is in {actual} position mode but trimtab is configured for "
                f"{self._position_mode}; change one of them before trading"
            )
        self._position_mode_checked = True
