"""Binance's REST answers, as JSON, for the endpoints ccxt's ``binance``, ``binanceusdm`` and ``binancecoinm``
classes call.

This module holds the order endpoints and the route table; market data and accounts have their own modules.
Each handler takes the engine and the request's parameters and returns the decoded JSON body; errors are
raised as :class:`~trimtab.testing.fake_exchange.engine.ExchangeRejectError` and become ``{"code", "msg"}``
answers, as on Binance.
"""

from __future__ import annotations

from typing import Any

from trimtab.testing.fake_exchange import accounts, market_data, transfers
from trimtab.testing.fake_exchange.answers import Handler, Params, flag, num, order_id, required
from trimtab.testing.fake_exchange.engine import Engine, FakeOrder, FakeTrade, Family

__all__ = ["ROUTES", "Handler", "Params"]


def _order_json(order: FakeOrder) -> dict[str, Any]:
    row: dict[str, Any] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "clientOrderId": order.client_order_id,
        "price": num(order.price or 0.0),
        "origQty": num(order.amount),
        "executedQty": num(order.filled),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "time": order.created_ms,
        "updateTime": order.updated_ms,
    }
    if order.family == "spot":
        row.update(
            {
                "orderListId": -1,
                "cummulativeQuoteQty": num(order.quote_filled),
                "stopPrice": "0",
                "icebergQty": "0",
                "isWorking": order.is_open,
                "workingTime": order.created_ms,
                "origQuoteOrderQty": "0",
                "selfTradePreventionMode": "NONE",
            }
        )
    else:
        if order.family == "coinm":
            row.update({"pair": order.symbol.split("_")[0], "cumBase": num(order.coin_filled)})
        row.update(
            {
                "avgPrice": num(order.average_price),
                "cumQty": num(order.filled),
                "cumQuote": num(order.quote_filled),
                "reduceOnly": order.reduce_only,
                "closePosition": False,
                "positionSide": "BOTH",
                "stopPrice": "0",
                "workingType": "CONTRACT_PRICE",
                "priceProtect": False,
                "origType": order.type,
                "priceMatch": "NONE",
                "selfTradePreventionMode": "NONE",
                "goodTillDate": 0,
            }
        )
    return row


def create_order(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        type_ = required(params, "type")
        price = params.get("price")
        client_order_id = params.get("newClientOrderId") or f"fake-{engine.now_ms()}"
        order = engine.place(
            family,
            required(params, "symbol"),
            required(params, "side"),
            type_,
            float(required(params, "quantity")),
            float(price) if price is not None else None,
            client_order_id,
            time_in_force=params.get("timeInForce", "GTC"),
            reduce_only=flag(params, "reduceOnly"),
        )
        row = _order_json(order)
        if family == "spot":
            row["transactTime"] = order.created_ms
            fills = engine.trades_of(family, order.symbol, None, order.order_id)
            row["fills"] = [
                {
                    "price": num(t.price),
                    "qty": num(t.amount),
                    "commission": num(t.fee),
                    "commissionAsset": t.fee_asset,
                    "tradeId": t.trade_id,
                }
                for t in fills
            ]
        return row

    return handler


def query_order(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        order = engine.find(family, required(params, "symbol"), params.get("origClientOrderId"), order_id(params))
        return _order_json(order)

    return handler


def cancel_order(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        order = engine.cancel(family, required(params, "symbol"), params.get("origClientOrderId"), order_id(params))
        return _order_json(order)

    return handler


def open_orders(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        return [_order_json(o) for o in engine.open_orders(family, params.get("symbol"))]

    return handler


def _trade_json(trade: FakeTrade) -> dict[str, Any]:
    row: dict[str, Any] = {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "price": num(trade.price),
        "qty": num(trade.amount),
        "quoteQty": num(trade.amount * trade.price),
        "commission": num(trade.fee),
        "commissionAsset": trade.fee_asset,
        "time": trade.time_ms,
        "maker": trade.maker,
    }
    if trade.family == "spot":
        row.update({"orderListId": -1, "isBuyer": trade.side == "BUY", "isMaker": trade.maker, "isBestMatch": True})
    else:
        if trade.family == "coinm":
            row.pop("quoteQty")
            row.update({"pair": trade.symbol.split("_")[0], "marginAsset": trade.fee_asset})
            row["baseQty"] = num(trade.amount * trade.contract_size / trade.price)
        row.update(
            {
                "buyer": trade.side == "BUY",
                "side": trade.side,
                "positionSide": "BOTH",
                "realizedPnl": f"{trade.realized_pnl:.8f}",
            }
        )
    return row


def my_trades(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        since = params.get("startTime")
        trades = engine.trades_of(family, required(params, "symbol"), int(since) if since else None, order_id(params))
        limit = int(params.get("limit", "500"))
        # as on Binance: from startTime forward when given, else the most recent page
        page = trades[:limit] if since else trades[-limit:]
        return [_trade_json(t) for t in page]

    return handler


def _futures_routes(prefix: str, family: Family) -> dict[tuple[str, str], Handler]:
    """The order, market-data and account endpoints one futures family answers under its prefix."""
    coin = family == "coinm"
    routes: dict[tuple[str, str], Handler] = {
        ("GET", f"/{prefix}/v1/exchangeInfo"): market_data.exchange_info(family),
        ("GET", f"/{prefix}/v1/time"): market_data.server_time,
        ("GET", f"/{prefix}/v1/ping"): lambda engine, params: {},
        ("GET", f"/{prefix}/v1/ticker/24hr"): market_data.ticker_24hr(family),
        ("GET", f"/{prefix}/v1/ticker/bookTicker"): market_data.book_ticker(family),
        ("GET", f"/{prefix}/v1/premiumIndex"): market_data.premium_index(family),
        ("GET", f"/{prefix}/v1/fundingInfo"): market_data.funding_info(family),
        ("GET", f"/{prefix}/v1/positionSide/dual"): accounts.position_side_dual,
        ("POST", f"/{prefix}/v1/leverage"): accounts.set_leverage(family),
        ("POST", f"/{prefix}/v1/marginType"): accounts.set_margin_type(family),
        ("POST", f"/{prefix}/v1/order"): create_order(family),
        ("GET", f"/{prefix}/v1/order"): query_order(family),
        ("DELETE", f"/{prefix}/v1/order"): cancel_order(family),
        ("GET", f"/{prefix}/v1/openOrders"): open_orders(family),
        ("GET", f"/{prefix}/v1/userTrades"): my_trades(family),
    }
    if coin:
        routes.update(
            {
                ("GET", "/dapi/v1/account"): accounts.futures_account(family),
                ("GET", "/dapi/v1/positionRisk"): accounts.coinm_position_risk,
                ("GET", "/dapi/v2/leverageBracket"): accounts.leverage_brackets(family),
            }
        )
    else:
        routes.update(
            {
                ("GET", "/fapi/v2/account"): accounts.futures_account(family),
                ("GET", "/fapi/v3/account"): accounts.futures_account(family),
                ("GET", "/fapi/v2/positionRisk"): accounts.position_risk_v2,
                ("GET", "/fapi/v3/positionRisk"): accounts.position_risk_v3,
                ("GET", "/fapi/v1/symbolConfig"): accounts.symbol_config,
                ("GET", "/fapi/v1/leverageBracket"): accounts.leverage_brackets(family),
            }
        )
    return routes


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/api/v3/exchangeInfo"): market_data.exchange_info("spot"),
    ("GET", "/api/v3/time"): market_data.server_time,
    ("GET", "/api/v3/ping"): lambda engine, params: {},
    ("GET", "/api/v3/ticker/24hr"): market_data.ticker_24hr("spot"),
    ("GET", "/api/v3/ticker/bookTicker"): market_data.book_ticker("spot"),
    ("GET", "/api/v3/account"): accounts.spot_account,
    ("POST", "/api/v3/order"): create_order("spot"),
    ("GET", "/api/v3/order"): query_order("spot"),
    ("DELETE", "/api/v3/order"): cancel_order("spot"),
    ("GET", "/api/v3/openOrders"): open_orders("spot"),
    ("GET", "/api/v3/myTrades"): my_trades("spot"),
    ("GET", "/sapi/v1/capital/config/getall"): market_data.empty_list,
    ("GET", "/sapi/v1/margin/allPairs"): market_data.empty_list,
    ("GET", "/sapi/v1/margin/isolated/allPairs"): market_data.empty_list,
    ("POST", "/sapi/v1/asset/transfer"): transfers.transfer,
    ("GET", "/sapi/v1/asset/transfer"): transfers.history,
    **_futures_routes("fapi", "usdm"),
    **_futures_routes("dapi", "coinm"),
}
"""Every endpoint the fake answers, by HTTP method and path."""
