"""Typed parsing of ccxt's unified dictionaries into the venue port's values.

ccxt is untyped; this module is the one place that reads its dictionaries. ccxt counts swaps and futures in
contracts; trimtab counts a linear derivative in its base coin (contracts x ``contractSize``) and an inverse
one in contracts, as the core does (its valuation applies the contract size once, from the market rules).
:func:`unit_size` is that conversion; it is the only place the contract size enters the venue's amounts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import ccxt

from trimtab.domain import MarketRules, Side, parse_symbol
from trimtab.venues.ports import Fill, OrderState, OrderStatus, OrderType, Ticker, VenueMarket, VenuePosition

_STATUS = {
    "closed": OrderStatus.FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
    "expired": OrderStatus.EXPIRED,
}


def number(value: Any, default: float | None = None) -> float | None:
    """A finite float from a ccxt field (number or numeric string), else ``default``."""
    if value is None or value == "":
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return result if math.isfinite(result) else default


def to_datetime(milliseconds: Any) -> datetime | None:
    ms = number(milliseconds)
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC) if ms is not None else None


def contract_size(market: Mapping[str, Any]) -> float:
    """Base units per contract (1 for spot and for markets that do not say)."""
    if not market.get("contract"):
        return 1.0
    return number(market.get("contractSize"), 1.0) or 1.0


def unit_size(market: Mapping[str, Any]) -> float:
    """trimtab units per ccxt unit: the contract size of a linear contract, 1 for spot and inverse markets.

    An inverse contract (``BTC/USD:BTC``, 100 USD each) stays in contracts: a -3 contract position is -3 in
    trimtab, worth -300 USD through the market rules' ``contract_size``; a 25,000 USD hedge is 250 contracts.
    """
    if not market.get("contract") or market.get("inverse"):
        return 1.0
    return contract_size(market)


def step_from_precision(precision: Any, precision_mode: int) -> float:
    """ccxt's amount precision as a step: a tick size as is, a number of decimals as 10**-n."""
    value = number(precision)
    if value is None:
        return 0.0
    if precision_mode == int(ccxt.TICK_SIZE):
        return value
    return math.pow(10.0, -value)


def parse_market(market: Mapping[str, Any], precision_mode: int) -> VenueMarket | None:
    """The port's market for a ccxt market, or None if its symbol is not one trimtab understands."""
    symbol = market.get("symbol")
    if not isinstance(symbol, str):
        return None
    try:
        instrument = parse_symbol(symbol)
    except ValueError:
        return None
    unit = unit_size(market)
    limits = market.get("limits") or {}
    precision = market.get("precision") or {}
    rules = MarketRules(
        amount_step=step_from_precision(precision.get("amount"), precision_mode) * unit,
        min_amount=(number((limits.get("amount") or {}).get("min"), 0.0) or 0.0) * unit,
        min_notional=number((limits.get("cost") or {}).get("min"), 0.0) or 0.0,
        contract_size=contract_size(market),
    )
    return VenueMarket(symbol=symbol, instrument=instrument, rules=rules)


def order_status(order: Mapping[str, Any], filled: float, amount: float = 0.0) -> OrderStatus:
    """The port's status of a ccxt order. ccxt reads some exchanges' "partly filled, then cancelled" as
    ``closed`` (Bybit's spot ``PartiallyFilledCanceled``): a closed order short of its amount was cancelled."""
    raw = str(order.get("status") or "").lower()
    if raw == "closed" and amount > 0 and filled < amount * (1 - 1e-9):
        return OrderStatus.CANCELED
    if raw in _STATUS:
        return _STATUS[raw]
    if raw == "open":
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN
    return OrderStatus.NEW


def parse_order(
    order: Mapping[str, Any],
    *,
    size: float,
    client_order_id: str | None = None,
    fee: tuple[float, str | None] | None = None,
) -> OrderState:
    """The port's order state; ``fee`` overrides the order's own (when fetched from its trades)."""
    filled = (number(order.get("filled"), 0.0) or 0.0) * size
    amount = (number(order.get("amount"), 0.0) or 0.0) * size
    fee_cost, fee_currency = fee if fee is not None else _fee_of(order)
    order_type = OrderType.MARKET if str(order.get("type", "")).lower() == "market" else OrderType.LIMIT
    price = number(order.get("price"))
    return OrderState(
        client_order_id=str(order.get("clientOrderId") or client_order_id or ""),
        exchange_order_id=str(order["id"]) if order.get("id") is not None else None,
        symbol=str(order.get("symbol")),
        side=Side(str(order.get("side", "buy")).lower()),
        type=order_type,
        amount=amount,
        price=price if price and order_type is OrderType.LIMIT else None,
        filled=filled,
        average_price=number(order.get("average")) if filled > 0 else None,
        fee=fee_cost,
        fee_currency=fee_currency,
        status=order_status(order, filled, amount),
        timestamp=to_datetime(order.get("lastUpdateTimestamp") or order.get("timestamp")),
    )


def _fee_of(entry: Mapping[str, Any]) -> tuple[float, str | None]:
    fees = entry.get("fees") or ([entry["fee"]] if entry.get("fee") else [])
    total, currency = 0.0, None
    for fee in fees:
        if fee and number(fee.get("cost")) is not None:
            total += number(fee.get("cost"), 0.0) or 0.0
            currency = currency or fee.get("currency")
    return total, currency


def has_fee(order: Mapping[str, Any]) -> bool:
    return bool(order.get("fee") or order.get("fees"))


def parse_trade(trade: Mapping[str, Any], *, size: float, client_order_id: str | None) -> Fill:
    fee, fee_currency = _fee_of(trade)
    return Fill(
        trade_id=str(trade.get("id")),
        client_order_id=client_order_id,
        exchange_order_id=str(trade.get("order")),
        symbol=str(trade.get("symbol")),
        side=Side(str(trade.get("side", "buy")).lower()),
        amount=(number(trade.get("amount"), 0.0) or 0.0) * size,
        price=number(trade.get("price"), 0.0) or 0.0,
        fee=fee,
        fee_currency=fee_currency,
        timestamp=to_datetime(trade.get("timestamp")) or datetime.fromtimestamp(0, tz=UTC),
    )


def parse_position(
    position: Mapping[str, Any], *, size: float, leverage: float, margin_mode: str | None = None
) -> VenuePosition | None:
    """The port's position (signed trimtab units), or None for a flat one.

    ``leverage`` is the position's real leverage (:func:`position_leverage`); the venue's own liquidation
    price and margin mode are kept as the exchange reports them.
    """
    contracts = number(position.get("contracts"), 0.0) or 0.0
    if contracts == 0:
        return None
    side = str(position.get("side") or "").lower()
    signed = -abs(contracts) if side == "short" else abs(contracts) if side == "long" else contracts
    mode = margin_mode or position.get("marginMode") or position.get("marginType")
    return VenuePosition(
        symbol=str(position.get("symbol")),
        amount=signed * size,
        entry_price=number(position.get("entryPrice"), 0.0) or 0.0,
        leverage=leverage,
        mark_price=number(position.get("markPrice")),
        liquidation_price=number(position.get("liquidationPrice")) or None,
        margin_mode=str(mode).lower() if mode else None,
    )


def position_leverage(position: Mapping[str, Any]) -> float | None:
    """The leverage a position itself states: ccxt's ``leverage``, else notional over initial margin.

    Binance's ``/fapi/v3/positionRisk`` has no leverage field (ccxt's ``leverage`` is None), but it states
    ``notional`` and ``initialMargin`` = ``|notional| / leverage``; a ratio within 1e-6 of a whole number is
    that whole number (Binance's leverages are integers). None when the answer states neither.
    """
    stated = number(position.get("leverage"))
    if stated is not None and stated > 0:
        return stated
    info = position.get("info") if isinstance(position.get("info"), Mapping) else {}
    notional = number(position.get("notional")) or number((info or {}).get("notional"))
    margin = number(position.get("initialMargin")) or number((info or {}).get("initialMargin"))
    if not notional or not margin or margin <= 0:
        return None
    ratio = abs(notional) / margin
    whole = round(ratio)
    return float(whole) if whole >= 1 and abs(ratio - whole) <= 1e-6 * ratio else ratio


def parse_ticker(ticker: Mapping[str, Any], *, mark: float | None, now: datetime) -> Ticker:
    last = number(ticker.get("last")) or number(ticker.get("close"))
    bid = number(ticker.get("bid"), 0.0) or 0.0
    ask = number(ticker.get("ask"), 0.0) or 0.0
    if last is None:
        last = (bid + ask) / 2.0 if bid and ask else (mark or 0.0)
    return Ticker(
        symbol=str(ticker.get("symbol")),
        bid=bid,
        ask=ask,
        last=last,
        mark=mark if mark is not None else number(ticker.get("markPrice")),
        timestamp=to_datetime(ticker.get("timestamp")) or now,
    )


def funding_interval_hours(entry: Mapping[str, Any] | None) -> float | None:
    """A funding interval such as ``"8h"`` in hours, or None."""
    if not entry:
        return None
    raw = entry.get("interval")
    if isinstance(raw, str) and raw.endswith("h"):
        return number(raw[:-1])
    return None


def wallet_balances(info: Any) -> dict[str, float]:
    """Wallet balances (realised, without unrealised PnL) of a derivatives account, where the answer has them.

    Binance USD-M and COIN-M answer ``{"assets": [{"asset": "USDT", "walletBalance": "..."}]}``; other
    answers give an empty dict and ccxt's ``total`` stands.
    """
    if not isinstance(info, Mapping):
        return {}
    wallets = {}
    for entry in info.get("assets") or []:
        if isinstance(entry, Mapping) and "walletBalance" in entry and entry.get("asset"):
            value = number(entry.get("walletBalance"))
            if value is not None:
                wallets[str(entry["asset"])] = value
    return wallets


def with_trade_fees(
    exchange: Any, state: OrderState, symbol: str, read: Callable[[str, Callable[[], Any]], Any]
) -> OrderState:
    """The order with its fee summed from its trades (Binance's order queries carry none), each trade once."""
    if state.filled <= 0 or state.fee > 0 or state.exchange_order_id is None:
        return state
    order_id = state.exchange_order_id
    trades = read("fetch_my_trades", lambda: exchange.fetch_my_trades(symbol, None, None, {"orderId": order_id}))
    seen: set[str] = set()
    fee, currency = 0.0, state.fee_currency
    for trade in trades:
        if str(trade.get("order")) != order_id or str(trade.get("id")) in seen:
            continue
        seen.add(str(trade.get("id")))
        cost, trade_currency = _fee_of(trade)
        fee += cost
        currency = currency or trade_currency
    return replace(state, fee=fee, fee_currency=currency)


def find_in_order_lists(
    exchange: Any, client_order_id: str, symbol: str, params: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """ccxt's order with this client id among the open orders, then the recent closed ones (where the exchange
    lists them); ``params`` narrow the lists to that id where the exchange can (Bybit's ``orderLinkId``)."""
    calls = [exchange.fetch_open_orders]
    if exchange.has.get("fetchClosedOrders"):
        calls.append(exchange.fetch_closed_orders)
    for call in calls:
        orders = call(symbol, None, None, dict(params)) if params else call(symbol)
        for order in orders:
            if order.get("clientOrderId") == client_order_id:
                found: Mapping[str, Any] = order
                return found
    return None
