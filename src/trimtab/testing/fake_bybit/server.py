"""A local HTTP server on 127.0.0.1 that answers like Bybit's V5 API for a unified trading account.

ccxt's real ``bybit`` class trades against it once its ``urls['api']`` point here (:meth:`FakeBybit.ccxt_urls`).
Public: ``/v5/market/time``, ``instruments-info``, ``tickers``, ``risk-limit``. Private (the
``X-BAPI-API-KEY`` header must carry the configured key, else retCode 10003; the signature itself is not
verified): ``/v5/asset/coin/query-info``, ``/v5/account/wallet-balance``, ``/v5/account/info``,
``/v5/position/list``, ``/v5/position/set-leverage``, ``/v5/order/create``, ``/v5/order/cancel``,
``/v5/order/realtime``, ``/v5/order/history`` and ``/v5/execution/list``. :meth:`FakeBybit.replay` makes
an endpoint answer a recorded real body verbatim. Refusals are answered as Bybit does, HTTP 200 with a
non-zero ``retCode`` (see :mod:`trimtab.testing.fake_bybit.engine`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from trimtab.testing.fake_bybit import answers
from trimtab.testing.fake_bybit.engine import BybitEngine, BybitRejectError
from trimtab.testing.fake_bybit.market_data import BybitMarket, instrument, ok, ticker

Params = Mapping[str, Any]


@dataclass(frozen=True)
class BybitRequest:
    """A request the fake received: method, path, query or body parameters and the key header."""

    method: str
    path: str
    params: dict[str, Any]
    api_key: str | None


def market_id(symbol: str) -> tuple[str, str]:
    """Bybit's category and symbol of a ccxt unified symbol (``BTC/USDT:USDT`` -> ``("linear", "BTCUSDT")``)."""
    pair, _, settle = symbol.partition(":")
    base, _, quote = pair.partition("/")
    return ("linear" if settle else "spot"), f"{base}{quote}"


def default_bybit() -> BybitEngine:
    """Spot BTC/USDT and ETH/USDT, their linear perpetuals, and a unified wallet of USDT and BTC."""
    engine = BybitEngine()
    for category in ("spot", "linear"):
        spot = category == "spot"
        engine.add_market(
            BybitMarket(
                category,
                "BTCUSDT",
                "BTC",
                "USDT",
                60000.0,
                qty_step="0.000001" if spot else "0.001",
                min_qty="0.000048" if spot else "0.001",
                min_notional="1" if spot else "5",
                tick="0.1",
            )
        )
        engine.add_market(
            BybitMarket(
                category,
                "ETHUSDT",
                "ETH",
                "USDT",
                3000.0,
                qty_step="0.00001" if spot else "0.01",
                min_qty="0.0001" if spot else "0.01",
                min_notional="1" if spot else "5",
                tick="0.01",
            )
        )
    engine.wallet.update({"USDT": 50_000.0, "BTC": 0.5})
    return engine


class FakeBybit:
    """The server, its engine, the recorded answers it replays and the requests it received."""

    def __init__(self, engine: BybitEngine | None = None, api_key: str = "fake-api-key") -> None:
        self.engine = engine or default_bybit()
        self.api_key = api_key
        self.requests: list[BybitRequest] = []
        self.replays: dict[tuple[str, str], Any] = {}
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeBybit:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeBybit:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Bybit is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def ccxt_urls(self) -> dict[str, Any]:
        """The ``urls`` override that points ccxt's ``bybit`` class at this server."""
        return {"api": dict.fromkeys(("spot", "futures", "v2", "public", "private"), self.url)}

    def replay(self, method: str, path: str, body: Any) -> None:
        """Answer ``method path`` with ``body`` verbatim (a recorded real answer), after the key check."""
        self.replays[(method, path)] = body

    def set_price(self, symbol: str, price: float) -> None:
        """Move a market (ccxt unified symbol); resting orders the new price crosses fill at their limit."""
        with self.engine.lock:
            self.engine.set_price(*market_id(symbol), price)

    def fill(self, symbol: str, link_id: str, qty: float | None = None, price: float | None = None) -> None:
        """Fill a resting order (by ``orderLinkId``), fully or by ``qty``, at its limit unless ``price`` says."""
        with self.engine.lock:
            order = self.engine.find(None, link_id)
            if order is None or order.market is not self.engine.market(*market_id(symbol)):
                raise KeyError(f"no order {link_id!r} on {symbol}")
            self.engine.fill(order, price or order.price or order.market.price, qty)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path == path)

    def handle(self, method: str, path: str, params: dict[str, Any], api_key: str | None) -> Any:
        self.requests.append(BybitRequest(method, path, params, api_key))
        now = self.engine.now_ms()
        if not path.startswith("/v5/market/") and api_key != self.api_key:
            return {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}, "retExtInfo": {}, "time": now}
        if (method, path) in self.replays:
            return self.replays[(method, path)]
        route = _ROUTES.get((method, path))
        if route is None:
            return {"retCode": 10001, "retMsg": f"unknown path {path}", "result": {}, "retExtInfo": {}, "time": now}
        with self.engine.lock:
            try:
                return ok(route(self.engine, params), now)
            except BybitRejectError as error:
                return {"retCode": error.code, "retMsg": error.message, "result": {}, "retExtInfo": {}, "time": now}


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


_ROUTES: dict[tuple[str, str], Callable[[BybitEngine, Params], Any]] = {
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
}


def _make_handler(fake: FakeBybit) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            params: dict[str, Any] = dict(parse_qsl(parts.query))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                body = json.loads(self.rfile.read(length) or b"{}")
                if isinstance(body, dict):
                    params.update(body)
            answer = fake.handle(method, parts.path, params, self.headers.get("X-BAPI-API-KEY"))
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

    return Handler
