"""Binance's REST answers, as JSON, for the endpoints ccxt's ``binance`` and ``binanceusdm`` classes call.

Each handler takes the engine and the request's parameters and returns the decoded JSON body; errors are
raised as :class:`~trimtab.testing.fake_exchange.engine.ExchangeRejectError` and become ``{"code", "msg"}``
answers, as on Binance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trimtab.testing.fake_exchange.engine import Engine, ExchangeRejectError, FakeOrder, FakePosition, FakeTrade, Family

Params = Mapping[str, str]
Handler = Callable[[Engine, Params], Any]

PERPETUAL_DELIVERY_MS = 4133404800000


def _num(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".") if value else "0"


def _decimals(step: str) -> int:
    return len(step.split(".")[1].rstrip("0")) if "." in step else 0


def _bool(params: Params, key: str) -> bool:
    return params.get(key, "false").lower() == "true"


def _required(params: Params, key: str) -> str:
    value = params.get(key)
    if value is None:
        raise ExchangeRejectError(400, -1102, f"Mandatory parameter '{key}' was not sent.")
    return value


def _order_id(params: Params) -> int | None:
    raw = params.get("orderId")
    return int(raw) if raw is not None else None


# --------------------------------------------------------------------------- market data
def exchange_info(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        symbols = [_symbol_info(spec) for (fam, _), spec in engine.markets.items() if fam == family]
        return {
            "timezone": "UTC",
            "serverTime": engine.now_ms(),
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": symbols,
        }

    return handler


def _symbol_info(spec: Any) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"filterType": "PRICE_FILTER", "minPrice": spec.tick, "maxPrice": "10000000", "tickSize": spec.tick},
        {"filterType": "LOT_SIZE", "minQty": spec.min_amount, "maxQty": "9000000", "stepSize": spec.amount_step},
    ]
    info: dict[str, Any] = {
        "symbol": spec.id,
        "status": "TRADING",
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
    }
    if spec.family == "spot":
        filters.append({"filterType": "NOTIONAL", "minNotional": _num(spec.min_notional), "applyMinToMarket": True})
        info.update(
            {
                "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "permissions": ["SPOT"],
            }
        )
    else:
        filters.append({"filterType": "MIN_NOTIONAL", "notional": _num(spec.min_notional)})
        info.update(
            {
                "pair": spec.id,
                "contractType": "PERPETUAL",
                "deliveryDate": PERPETUAL_DELIVERY_MS,
                "onboardDate": 1569398400000,
                "marginAsset": spec.quote,
                "pricePrecision": _decimals(spec.tick),
                "quantityPrecision": _decimals(spec.amount_step),
                "underlyingType": "COIN",
                "orderTypes": ["LIMIT", "MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
            }
        )
    info["filters"] = filters
    return info


def server_time(engine: Engine, params: Params) -> Any:
    return {"serverTime": engine.now_ms()}


def empty_list(engine: Engine, params: Params) -> Any:
    return []


def empty_markets(engine: Engine, params: Params) -> Any:
    return {"timezone": "UTC", "serverTime": engine.now_ms(), "rateLimits": [], "exchangeFilters": [], "symbols": []}


def ticker_24hr(family: Family) -> Handler:
    def one(spec: Any, now: int) -> dict[str, Any]:
        row = {
            "symbol": spec.id,
            "priceChange": "0",
            "priceChangePercent": "0",
            "weightedAvgPrice": _num(spec.price),
            "lastPrice": _num(spec.price),
            "lastQty": "1",
            "openPrice": _num(spec.price),
            "highPrice": _num(spec.price),
            "lowPrice": _num(spec.price),
            "volume": "1000",
            "quoteVolume": _num(spec.price * 1000),
            "openTime": now - 86_400_000,
            "closeTime": now,
            "count": 1,
        }
        if family == "spot":  # the USD-M 24h ticker carries no book, as on Binance
            row.update({"bidPrice": _num(spec.bid), "bidQty": "10", "askPrice": _num(spec.ask), "askQty": "10"})
        return row

    def handler(engine: Engine, params: Params) -> Any:
        now = engine.now_ms()
        if "symbol" in params:
            return one(engine.market(family, params["symbol"]), now)
        return [one(spec, now) for (fam, _), spec in engine.markets.items() if fam == family]

    return handler


def book_ticker(family: Family) -> Handler:
    def one(spec: Any, now: int) -> dict[str, Any]:
        return {
            "symbol": spec.id,
            "bidPrice": _num(spec.bid),
            "bidQty": "10",
            "askPrice": _num(spec.ask),
            "askQty": "10",
            "time": now,
        }

    def handler(engine: Engine, params: Params) -> Any:
        now = engine.now_ms()
        if "symbol" in params:
            return one(engine.market(family, params["symbol"]), now)
        return [one(spec, now) for (fam, _), spec in engine.markets.items() if fam == family]

    return handler


def premium_index(engine: Engine, params: Params) -> Any:
    now = engine.now_ms()
    interval_ms = 8 * 3_600_000

    def one(spec: Any) -> dict[str, Any]:
        return {
            "symbol": spec.id,
            "markPrice": _num(spec.mark_price),
            "indexPrice": _num(spec.price),
            "estimatedSettlePrice": _num(spec.price),
            "lastFundingRate": f"{spec.funding_rate:.8f}",
            "interestRate": "0.00010000",
            "nextFundingTime": (now // interval_ms + 1) * interval_ms,
            "time": now,
        }

    if "symbol" in params:
        return one(engine.market("usdm", params["symbol"]))
    return [one(spec) for (fam, _), spec in engine.markets.items() if fam == "usdm"]


def funding_info(engine: Engine, params: Params) -> Any:
    return [
        {
            "symbol": spec.id,
            "adjustedFundingRateCap": "0.02",
            "adjustedFundingRateFloor": "-0.02",
            "fundingIntervalHours": spec.funding_interval_hours,
            "disclaimer": False,
        }
        for (fam, _), spec in engine.markets.items()
        if fam == "usdm"
    ]


# --------------------------------------------------------------------------- accounts
def spot_account(engine: Engine, params: Params) -> Any:
    locked: dict[str, float] = {}
    for order in engine.open_orders("spot", None):
        spec = engine.market("spot", order.symbol)
        for asset in (spec.base, spec.quote):
            locked[asset] = locked.get(asset, 0.0) + engine._locked_by(order, asset)
    balances = [
        {"asset": asset, "free": _num(total - locked.get(asset, 0.0)), "locked": _num(locked.get(asset, 0.0))}
        for asset, total in sorted(engine.spot_balances.items())
    ]
    return {
        "makerCommission": 10,
        "takerCommission": 10,
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": True,
        "updateTime": engine.now_ms(),
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
    }


def _position_row(engine: Engine, symbol_id: str, position: FakePosition) -> dict[str, Any]:
    spec = engine.market("usdm", symbol_id)
    pnl = position.amount * (spec.mark_price - position.entry_price)
    notional = position.amount * spec.mark_price
    liquidation = 0.0
    if position.amount != 0:
        # a rough isolated-style estimate: the price at which the initial margin is lost
        liquidation = max(
            position.entry_price * (1.0 - 1.0 / position.leverage * (1 if position.amount > 0 else -1)), 0.0
        )
    return {
        "symbol": symbol_id,
        "positionAmt": _num(position.amount) if position.amount >= 0 else "-" + _num(-position.amount),
        "entryPrice": _num(position.entry_price),
        "breakEvenPrice": _num(position.entry_price),
        "markPrice": _num(spec.mark_price),
        "unRealizedProfit": f"{pnl:.8f}",
        "liquidationPrice": _num(liquidation),
        "leverage": str(position.leverage),
        "maxNotionalValue": "1000000",
        "marginType": position.margin_type,
        "isolatedMargin": "0",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notional": f"{notional:.8f}",
        "isolatedWallet": "0",
        "initialMargin": f"{abs(notional) / position.leverage:.8f}",
        "maintMargin": f"{abs(notional) * 0.004:.8f}",
        "updateTime": engine.now_ms(),
    }


def position_risk(engine: Engine, params: Params) -> Any:
    rows = []
    for (fam, symbol_id), _spec in engine.markets.items():
        if fam != "usdm" or params.get("symbol") not in (None, symbol_id):
            continue
        rows.append(_position_row(engine, symbol_id, engine.positions.setdefault(symbol_id, FakePosition())))
    return rows


def futures_account(engine: Engine, params: Params) -> Any:
    positions = [_position_row(engine, s, p) for s, p in engine.positions.items()]
    pnl = sum(float(p["unRealizedProfit"]) for p in positions)
    margin = sum(float(p["initialMargin"]) for p in positions)
    assets = []
    for asset, wallet in sorted(engine.futures_wallet.items()):
        assets.append(
            {
                "asset": asset,
                "walletBalance": _num(wallet),
                "unrealizedProfit": f"{pnl:.8f}",
                "marginBalance": f"{wallet + pnl:.8f}",
                "maintMargin": "0",
                "initialMargin": f"{margin:.8f}",
                "positionInitialMargin": f"{margin:.8f}",
                "openOrderInitialMargin": "0",
                "crossWalletBalance": _num(wallet),
                "crossUnPnl": f"{pnl:.8f}",
                "availableBalance": f"{wallet + pnl - margin:.8f}",
                "maxWithdrawAmount": f"{max(wallet - margin, 0.0):.8f}",
                "updateTime": engine.now_ms(),
            }
        )
    wallet_total = sum(engine.futures_wallet.values())
    return {
        "totalWalletBalance": _num(wallet_total),
        "totalUnrealizedProfit": f"{pnl:.8f}",
        "totalMarginBalance": f"{wallet_total + pnl:.8f}",
        "availableBalance": f"{wallet_total + pnl - margin:.8f}",
        "canTrade": True,
        "assets": assets,
        "positions": positions,
    }


def leverage_brackets(engine: Engine, params: Params) -> Any:
    brackets = [
        {
            "bracket": 1,
            "initialLeverage": 125,
            "notionalCap": 10_000_000,
            "notionalFloor": 0,
            "maintMarginRatio": 0.004,
            "cum": 0.0,
        }
    ]
    return [{"symbol": spec.id, "brackets": brackets} for (fam, _), spec in engine.markets.items() if fam == "usdm"]


def position_side_dual(engine: Engine, params: Params) -> Any:
    return {"dualSidePosition": engine.dual_side_position}


def set_leverage(engine: Engine, params: Params) -> Any:
    symbol_id = _required(params, "symbol")
    spec = engine.market("usdm", symbol_id)
    leverage = int(_required(params, "leverage"))
    if not 1 <= leverage <= 125:
        raise ExchangeRejectError(400, -4028, "Leverage is not valid")
    engine.positions.setdefault(spec.id, FakePosition()).leverage = leverage
    return {"leverage": leverage, "maxNotionalValue": "1000000", "symbol": spec.id}


def set_margin_type(engine: Engine, params: Params) -> Any:
    position = engine.positions.setdefault(_required(params, "symbol"), FakePosition())
    wanted = _required(params, "marginType").lower()
    wanted = "cross" if wanted == "crossed" else wanted
    if position.margin_type == wanted:
        raise ExchangeRejectError(400, -4046, "No need to change margin type.")
    position.margin_type = wanted
    return {"code": 200, "msg": "success"}


# --------------------------------------------------------------------------- orders
def _order_json(order: FakeOrder) -> dict[str, Any]:
    row: dict[str, Any] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "clientOrderId": order.client_order_id,
        "price": _num(order.price or 0.0),
        "origQty": _num(order.amount),
        "executedQty": _num(order.filled),
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
                "cummulativeQuoteQty": _num(order.quote_filled),
                "stopPrice": "0",
                "icebergQty": "0",
                "isWorking": order.is_open,
                "workingTime": order.created_ms,
                "origQuoteOrderQty": "0",
                "selfTradePreventionMode": "NONE",
            }
        )
    else:
        row.update(
            {
                "avgPrice": _num(order.average_price),
                "cumQty": _num(order.filled),
                "cumQuote": _num(order.quote_filled),
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
        type_ = _required(params, "type")
        price = params.get("price")
        client_order_id = params.get("newClientOrderId") or f"fake-{engine.now_ms()}"
        order = engine.place(
            family,
            _required(params, "symbol"),
            _required(params, "side"),
            type_,
            float(_required(params, "quantity")),
            float(price) if price is not None else None,
            client_order_id,
            time_in_force=params.get("timeInForce", "GTC"),
            reduce_only=_bool(params, "reduceOnly"),
        )
        row = _order_json(order)
        if family == "spot":
            row["transactTime"] = order.created_ms
            fills = engine.trades_of(family, order.symbol, None, order.order_id)
            row["fills"] = [
                {
                    "price": _num(t.price),
                    "qty": _num(t.amount),
                    "commission": _num(t.fee),
                    "commissionAsset": t.fee_asset,
                    "tradeId": t.trade_id,
                }
                for t in fills
            ]
        return row

    return handler


def query_order(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        order = engine.find(family, _required(params, "symbol"), params.get("origClientOrderId"), _order_id(params))
        return _order_json(order)

    return handler


def cancel_order(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        order = engine.cancel(family, _required(params, "symbol"), params.get("origClientOrderId"), _order_id(params))
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
        "price": _num(trade.price),
        "qty": _num(trade.amount),
        "quoteQty": _num(trade.amount * trade.price),
        "commission": _num(trade.fee),
        "commissionAsset": trade.fee_asset,
        "time": trade.time_ms,
        "maker": trade.maker,
    }
    if trade.family == "spot":
        row.update({"orderListId": -1, "isBuyer": trade.side == "BUY", "isMaker": trade.maker, "isBestMatch": True})
    else:
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
        trades = engine.trades_of(family, _required(params, "symbol"), int(since) if since else None, _order_id(params))
        return [_trade_json(t) for t in trades]

    return handler


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/api/v3/exchangeInfo"): exchange_info("spot"),
    ("GET", "/api/v3/time"): server_time,
    ("GET", "/api/v3/ping"): lambda engine, params: {},
    ("GET", "/api/v3/ticker/24hr"): ticker_24hr("spot"),
    ("GET", "/api/v3/ticker/bookTicker"): book_ticker("spot"),
    ("GET", "/api/v3/account"): spot_account,
    ("POST", "/api/v3/order"): create_order("spot"),
    ("GET", "/api/v3/order"): query_order("spot"),
    ("DELETE", "/api/v3/order"): cancel_order("spot"),
    ("GET", "/api/v3/openOrders"): open_orders("spot"),
    ("GET", "/api/v3/myTrades"): my_trades("spot"),
    ("GET", "/sapi/v1/capital/config/getall"): empty_list,
    ("GET", "/sapi/v1/margin/allPairs"): empty_list,
    ("GET", "/sapi/v1/margin/isolated/allPairs"): empty_list,
    ("GET", "/dapi/v1/exchangeInfo"): empty_markets,
    ("GET", "/fapi/v1/exchangeInfo"): exchange_info("usdm"),
    ("GET", "/fapi/v1/time"): server_time,
    ("GET", "/fapi/v1/ping"): lambda engine, params: {},
    ("GET", "/fapi/v1/ticker/24hr"): ticker_24hr("usdm"),
    ("GET", "/fapi/v1/ticker/bookTicker"): book_ticker("usdm"),
    ("GET", "/fapi/v1/premiumIndex"): premium_index,
    ("GET", "/fapi/v1/fundingInfo"): funding_info,
    ("GET", "/fapi/v2/account"): futures_account,
    ("GET", "/fapi/v3/account"): futures_account,
    ("GET", "/fapi/v2/positionRisk"): position_risk,
    ("GET", "/fapi/v3/positionRisk"): position_risk,
    ("GET", "/fapi/v1/positionSide/dual"): position_side_dual,
    ("GET", "/fapi/v1/leverageBracket"): leverage_brackets,
    ("POST", "/fapi/v1/leverage"): set_leverage,
    ("POST", "/fapi/v1/marginType"): set_margin_type,
    ("POST", "/fapi/v1/order"): create_order("usdm"),
    ("GET", "/fapi/v1/order"): query_order("usdm"),
    ("DELETE", "/fapi/v1/order"): cancel_order("usdm"),
    ("GET", "/fapi/v1/openOrders"): open_orders("usdm"),
    ("GET", "/fapi/v1/userTrades"): my_trades("usdm"),
}
"""Every endpoint the fake answers, by HTTP method and path."""
