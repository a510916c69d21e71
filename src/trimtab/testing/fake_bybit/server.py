"""A local HTTP server on 127.0.0.1 that answers like Bybit's V5 API for a unified trading account.

ccxt's real ``bybit`` class trades against it once its ``urls['api']`` point here (:meth:`FakeBybit.ccxt_urls`).
Public: ``/v5/market/time``, ``instruments-info``, ``tickers``, ``risk-limit``. Private (the
``X-BAPI-API-KEY`` header must carry the configured key, else retCode 10003; the signature itself is not
verified): ``/v5/asset/coin/query-info``, ``/v5/account/wallet-balance``, ``/v5/account/info``,
``/v5/position/list``, ``/v5/position/set-leverage``, ``/v5/order/create``, ``/v5/order/cancel``,
``/v5/order/realtime``, ``/v5/order/history``, ``/v5/execution/list``, and the internal transfer between the
unified and the funding account with its records (:mod:`trimtab.testing.fake_bybit.transfers`,
``/v5/asset/transfer/inter-transfer`` and ``query-inter-transfer-list``). :meth:`FakeBybit.replay` makes
an endpoint answer a recorded real body verbatim. Refusals are answered as Bybit does, HTTP 200 with a
non-zero ``retCode`` (see :mod:`trimtab.testing.fake_bybit.engine`).

Faults (:meth:`FakeBybit.add_fault`, the kinds of :mod:`trimtab.testing.faults`) are answered as Bybit does
(https://bybit-exchange.github.io/docs/v5/rate-limit): a rate limit is HTTP 200 with retCode 10006 "Too many
visits!" and the headers ``X-Bapi-Limit``, ``X-Bapi-Limit-Status`` (0) and ``X-Bapi-Limit-Reset-Timestamp``
(when requests are allowed again, in milliseconds); a refusal is HTTP 200 with the fault's ``code`` as
``retCode`` (by default 10001, a parameter error); ``fill_first`` fills the order a cancel names by its
``orderLinkId``; a 5xx comes from Bybit's gateway as plain text; an ``ip_ban`` answers every request
with HTTP 403 "403, access too frequent" (plain text, no ``Retry-After``) until it ends, as Bybit's V5
rate-limit page describes its IP ban.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from trimtab.testing.fake_bybit.engine import BybitEngine, BybitRejectError
from trimtab.testing.fake_bybit.market_data import BybitMarket, ok
from trimtab.testing.fake_bybit.v5_api import ROUTES
from trimtab.testing.fake_server import FakeServer
from trimtab.testing.faults import Answer, FakeHandler, Fault


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


class FakeBybit(FakeServer):
    """The server, its engine, the recorded answers it replays and the requests it received."""

    exchange_name = "fake Bybit"

    def __init__(self, engine: BybitEngine | None = None, api_key: str = "fake-api-key") -> None:
        super().__init__()
        self.engine = engine or default_bybit()
        self.api_key = api_key
        self.requests: list[BybitRequest] = []

    def handler(self) -> type[FakeHandler]:
        return _make_handler(self)

    def ccxt_urls(self) -> dict[str, Any]:
        """The ``urls`` override that points ccxt's ``bybit`` class at this server."""
        return {"api": dict.fromkeys(("spot", "futures", "v2", "public", "private"), self.url)}

    # ------------------------------------------------------------- Bybit's shape of faults
    def rate_limited(self, fault: Fault) -> Answer:
        now = self.engine.now_ms()
        body = {"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": now}
        reset = str(now + int(fault.retry_after * 1000))
        return 200, body, {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": reset}

    def ip_banned(self, seconds_left: float) -> Answer:
        # Bybit's V5 rate-limit page: over 600 requests in 5 s from one IP, every request gets "403, access too
        # frequent" until the ban lifts (at least 10 minutes); no Retry-After, no JSON.
        return 403, "403, access too frequent", {}

    def rejected(self, fault: Fault) -> Answer:
        code = 10001 if fault.code is None else fault.code
        body = {"retCode": code, "retMsg": fault.message or "params error", "result": {}, "retExtInfo": {}}
        return 200, {**body, "time": self.engine.now_ms()}, {}

    def fill_first(self, method: str, path: str, params: dict[str, Any]) -> None:
        with self.engine.lock:
            order = self.engine.find(params.get("orderId"), params.get("orderLinkId"))
            if order is not None and order.status in ("New", "PartiallyFilled"):
                self.engine.fill(order, order.price or order.market.price)

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

    def transfers_with_id(self, transfer_id: str) -> int:
        """How many transfers carry this ``transferId`` (a duplicate check)."""
        return sum(1 for t in self.engine.transfers if t.transfer_id == transfer_id)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path == path)

    def handle(self, method: str, path: str, params: dict[str, Any], api_key: str | None) -> Any:
        """Record a request and answer it (the body of Bybit's HTTP 200 answer)."""
        self.requests.append(BybitRequest(method, path, params, api_key))
        return self.answer(method, path, params, api_key)

    def answer(self, method: str, path: str, params: dict[str, Any], api_key: str | None) -> Any:
        """Bybit's answer to a request, without recording it."""
        now = self.engine.now_ms()
        if not path.startswith("/v5/market/") and api_key != self.api_key:
            return {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}, "retExtInfo": {}, "time": now}
        if (method, path) in self.replays:
            return self.replays[(method, path)]
        route = ROUTES.get((method, path))
        if route is None:
            return {"retCode": 10001, "retMsg": f"unknown path {path}", "result": {}, "retExtInfo": {}, "time": now}
        with self.engine.lock:
            try:
                return ok(route(self.engine, params), now)
            except BybitRejectError as error:
                return {"retCode": error.code, "retMsg": error.message, "result": {}, "retExtInfo": {}, "time": now}


def _make_handler(fake: FakeBybit) -> type[FakeHandler]:
    class Handler(FakeHandler):
        def serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            params: dict[str, Any] = dict(parse_qsl(parts.query))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                body = json.loads(self.rfile.read(length) or b"{}")
                if isinstance(body, dict):
                    params.update(body)
            api_key = self.headers.get("X-BAPI-API-KEY")

            fake.requests.append(BybitRequest(method, parts.path, params, api_key))

            def process() -> Answer:
                return 200, fake.answer(method, parts.path, params, api_key), {}

            self.send_answer(fake.answer_with_faults(method, parts.path, params, process))

    return Handler
