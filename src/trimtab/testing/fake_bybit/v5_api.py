"""The fake Bybit's V5 endpoints: each a function of the engine and the request's parameters.

Answers are shaped as Bybit's V5 reference documents them (https://bybit-exchange.github.io/docs/v5/intro)
and as the recorded answers in ``tests/data/recorded/bybit/`` show; a refusal raises
:class:`~trimtab.testing.fake_bybit.engine.BybitRejectError` with Bybit's ``retCode``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trimtab.testing.fake_bybit import answers, transfers
from trimtab.testing.fake_bybit.engine import BybitEngine, BybitRejectError
from trimtab.testing.fake_bybit.market_data import instrument, ticker

Params = Mapping[str, Any]


def _time(engine: BybitEngine, params: Params) -> Any:
    now = engine.now_ms()
    return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}


def _instruments(engine: BybitEngine, params: Params) -> Any:
    category = str(params.get("category", ""))
    wanted = [instrument(m) for (c, _), m in engine.markets.items() if c == category]
    return {"category": category, "list": wanted, "nextPageCursor": ""}


def _tickers(engine: BybitEngine, params: Params) -> Any:
    category, symbol = str(params.get("category", "")), params.get("symbol")
    found = [ticker(m) for (c, s), m in engine.markets.items() if c == category and symbol in (None, s)]
    return {"category": category, "list": found}


def _risk_limit(engine: BybitEngine, params: Params) -> Any:
    symbols = [s for (c, s) in engine.markets if c == "linear" and params.get("symbol") in (None, s)]
    tiers = [
        {
            "id": 1,
            "symbol": s,
            "riskLimitValue": "2000000",
            "maintenanceMargin": "0.005",
            "initialMargin": "0.01",
            "isLowestRisk": 1,
            "maxLeverage": "100.00",
            "mmDeduction": "0",
        }
        for s in symbols
    ]
    return {"category": "linear", "list": tiers, "nextPageCursor": ""}


def _coins(engine: BybitEngine, params: Params) -> Any:
    """``GET /v5/asset/coin/query-info``: each coin of the markets on its own chain (ccxt loads currencies)."""
    coins = sorted({m.base for m in engine.markets.values()} | {m.quote for m in engine.markets.values()})
    chain = {
        "confirmation": "6",
        "withdrawFee": "0",
        "depositMin": "0",
        "withdrawMin": "0",
        "chainDeposit": "1",
        "chainWithdraw": "1",
        "minAccuracy": "8",
        "withdrawPercentageFee": "0",
    }
    rows = [
        {"name": c, "coin": c, "remainAmount": "1000000", "chains": [{**chain, "chainType": c, "chain": c}]}
        for c in coins
    ]
    return {"rows": rows}


def _wallet(engine: BybitEngine, params: Params) -> Any:
    if params.get("accountType") != "UNIFIED":
        raise BybitRejectError(10001, "accountType only support UNIFIED.")
    return answers.wallet_balance(engine)


def _account_info(engine: BybitEngine, params: Params) -> Any:
    """``GET /v5/account/info``: the account's margin mode (shape of Bybit's documented example)."""
    return {
        "marginMode": engine.margin_mode,
        "updatedTime": "1723481446000",
        "unifiedMarginStatus": 5,
        "dcpStatus": "OFF",
        "timeWindow": 0,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def _positions(engine: BybitEngine, params: Params) -> Any:
    symbol = params.get("symbol")
    return {"category": "linear", "list": answers.position_entries(engine, symbol), "nextPageCursor": ""}


def _set_leverage(engine: BybitEngine, params: Params) -> Any:
    engine.market("linear", str(params.get("symbol")))
    engine.leverage[str(params["symbol"])] = float(params.get("buyLeverage", 10))
    return {}


def _create(engine: BybitEngine, params: Params) -> Any:
    try:
        qty = float(params["qty"])
        price = float(params["price"]) if params.get("price") else None
    except (KeyError, ValueError):
        raise BybitRejectError(10001, "params error: qty or price invalid") from None
    spot_market_buy = (params.get("category"), params.get("orderType"), params.get("side")) == ("spot", "Market", "Buy")
    if spot_market_buy and params.get("marketUnit") != "baseCoin":
        # Bybit counts a spot market buy's qty in the quote coin unless marketUnit says baseCoin
        raise BybitRejectError(10001, "params error: trimtab's fake takes spot market buys in baseCoin only")
    order = engine.create(
        str(params.get("category")),
        str(params.get("symbol")),
        str(params.get("side")),
        str(params.get("orderType")),
        qty,
        price,
        str(params.get("orderLinkId") or ""),
        reduce_only=bool(params.get("reduceOnly")),
        time_in_force=str(params.get("timeInForce") or "GTC"),
    )
    return {"orderId": order.order_id, "orderLinkId": order.link_id}


def _cancel(engine: BybitEngine, params: Params) -> Any:
    order = engine.cancel(params.get("orderId"), params.get("orderLinkId"))
    return {"orderId": order.order_id, "orderLinkId": order.link_id}


def _orders(*, open_only: bool) -> Callable[[BybitEngine, Params], Any]:
    def read(engine: BybitEngine, params: Params) -> Any:
        category = str(params.get("category", ""))
        found = []
        for order in reversed(engine.orders):
            if order.market.category != category or params.get("symbol") not in (None, order.market.symbol):
                continue
            if params.get("orderId") not in (None, order.order_id):
                continue
            if params.get("orderLinkId") not in (None, order.link_id):
                continue
            is_open = order.status in ("New", "PartiallyFilled")
            if (open_only and str(params.get("openOnly", "0")) == "0" and not is_open) or (not open_only and is_open):
                continue
            found.append(answers.order_entry(order))
        return {"category": category, "list": found, "nextPageCursor": ""}

    return read


def _executions(engine: BybitEngine, params: Params) -> Any:
    category = str(params.get("category", ""))
    found = [
        answers.execution_entry(e)
        for e in reversed(engine.executions)
        if e.order.market.category == category
        and params.get("symbol") in (None, e.order.market.symbol)
        and params.get("orderId") in (None, e.order.order_id)
    ]
    return {"category": category, "list": found, "nextPageCursor": ""}


ROUTES: dict[tuple[str, str], Callable[[BybitEngine, Params], Any]] = {
    ("GET", "/v5/market/time"): _time,
    ("GET", "/v5/market/instruments-info"): _instruments,
    ("GET", "/v5/market/tickers"): _tickers,
    ("GET", "/v5/market/risk-limit"): _risk_limit,
    ("GET", "/v5/asset/coin/query-info"): _coins,
    ("GET", "/v5/account/wallet-balance"): _wallet,
    ("GET", "/v5/account/info"): _account_info,
    ("GET", "/v5/position/list"): _positions,
    ("POST", "/v5/position/set-leverage"): _set_leverage,
    ("POST", "/v5/order/create"): _create,
    ("POST", "/v5/order/cancel"): _cancel,
    ("GET", "/v5/order/realtime"): _orders(open_only=True),
    ("GET", "/v5/order/history"): _orders(open_only=False),
    ("GET", "/v5/execution/list"): _executions,
    ("POST", "/v5/asset/transfer/inter-transfer"): transfers.create,
    ("GET", "/v5/asset/transfer/query-inter-transfer-list"): transfers.records,
}
