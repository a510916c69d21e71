"""A local HTTP server on 127.0.0.1 that answers like Binance (spot, USD-M, COIN-M, transfers), with faults.

ccxt's real ``binance``, ``binanceusdm`` and ``binancecoinm`` classes trade against it once their
``urls['api']`` point here (:meth:`FakeExchange.ccxt_urls`). :meth:`FakeExchange.replay` makes an endpoint
answer a recorded real body verbatim (the replay tests of ``tests/data/recorded/``). Signed endpoints
require the ``X-MBX-APIKEY`` header to carry the configured key; the HMAC signature itself is not verified.

Faults (:class:`~trimtab.testing.faults.Fault`, the kinds in :mod:`trimtab.testing.faults`) are answered as
Binance does: a rate limit is 429 with ``Retry-After`` and code -1003, an IP ban 418 with ``Retry-After``
(the seconds until the ban is over) and code -1003 on every request while it lasts, a refusal 400 with its
``code`` and ``msg`` (by default -1013 "Filter failure: NOTIONAL"), and ``fill_first`` fills the order a
cancel names.

Beside those: :meth:`FakeExchange.maintenance` (every request answers 503 "System is under maintenance."
for a while), ``engine.invisible_for`` (new orders cannot be queried for that many seconds) and
``duplicate_trades`` (trade lists repeat every trade, as a replayed event stream would). Signed requests
are checked against the engine's clock as Binance does (-1021 outside ``recvWindow``); skew the exchange's
clock with ``engine.clock``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from trimtab.testing.fake_exchange.binance_api import ROUTES, Params
from trimtab.testing.fake_exchange.engine import Engine, ExchangeRejectError, Family, MarketSpec
from trimtab.testing.fake_server import FakeServer
from trimtab.testing.faults import Answer, FakeHandler, Fault

__all__ = ["FakeExchange", "Fault", "RecordedRequest", "default_engine", "market_id"]


_PUBLIC_PATHS = frozenset(
    {
        "/api/v3/exchangeInfo",
        "/api/v3/time",
        "/api/v3/ping",
        "/api/v3/ticker/24hr",
        "/api/v3/ticker/bookTicker",
    }
    | {
        f"/{prefix}/v1/{name}"
        for prefix in ("fapi", "dapi")
        for name in ("exchangeInfo", "time", "ping", "ticker/24hr", "ticker/bookTicker", "premiumIndex", "fundingInfo")
    }
)
_HOSTS = ("https://api.binance.com", "https://fapi.binance.com", "https://dapi.binance.com")


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake received (signature and timestamp left out)."""

    method: str
    path: str
    params: dict[str, str]
    api_key: str | None
    at: float = field(default_factory=time.monotonic)


def default_engine() -> Engine:
    """Spot BTC/USDT and ETH/USDT, their USD-M perpetuals, COIN-M BTC/USD:BTC, and funded wallets."""
    engine = Engine()
    families: tuple[Family, ...] = ("spot", "usdm")
    for fam in families:
        step = "0.00001" if fam == "spot" else "0.001"
        engine.add_market(MarketSpec(fam, "BTCUSDT", "BTC", "USDT", 60000.0, amount_step=step, min_amount=step))
        engine.add_market(
            MarketSpec(
                fam,
                "ETHUSDT",
                "ETH",
                "USDT",
                3000.0,
                amount_step="0.0001" if fam == "spot" else "0.001",
                min_amount="0.0001" if fam == "spot" else "0.001",
                funding_rate=-0.00005,
            )
        )
    engine.add_market(
        MarketSpec("coinm", "BTCUSD_PERP", "BTC", "USD", 60000.0, amount_step="1", min_amount="1", tick="0.1")
    )
    engine.market("coinm", "BTCUSD_PERP").contract_size = 100.0
    engine.spot_balances.update({"USDT": 100_000.0, "BTC": 1.0, "ETH": 10.0})
    engine.futures_wallet["USDT"] = 50_000.0
    engine.coinm_wallet["BTC"] = 0.5
    return engine


def market_id(symbol: str) -> tuple[Family, str]:
    """The fake's family and market id of a ccxt unified symbol (``BTC/USDT:USDT`` -> ``("usdm", "BTCUSDT")``,
    ``BTC/USD:BTC`` -> ``("coinm", "BTCUSD_PERP")``)."""
    pair, _, settle = symbol.partition(":")
    base, _, quote = pair.partition("/")
    if settle and settle == base:
        return "coinm", f"{base}{quote}_PERP"
    return ("usdm" if settle else "spot"), f"{base}{quote}"


class FakeExchange(FakeServer):
    """The server, its engine, its faults and the requests it received.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, engine: Engine | None = None, api_key: str = "fake-api-key") -> None:
        super().__init__()
        self.engine = engine or default_engine()
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.duplicate_trades = False
        self._maintenance_until = 0.0

    def handler(self) -> type[FakeHandler]:
        return _make_handler(self)

    # ------------------------------------------------------------- scripting
    def maintenance(self, seconds: float) -> None:
        """Answer every request with 503 "System is under maintenance." for ``seconds``."""
        self._maintenance_until = time.monotonic() + seconds

    def set_price(self, symbol: str, price: float) -> None:
        """Move a market (ccxt unified symbol); resting orders the book now crosses fill."""
        self.engine.set_price(*market_id(symbol), price)

    def fill(self, symbol: str, client_order_id: str, amount: float | None = None, price: float | None = None) -> None:
        """Fill a resting order, fully or by ``amount``."""
        self.engine.fill(market_id(symbol)[0], client_order_id, amount, price)

    def count(self, method: str, path: str) -> int:
        """How many requests with this method reached a path ending in ``path``."""
        return sum(1 for r in self.requests if r.method == method and r.path.endswith(path))

    def orders_with_client_id(self, client_order_id: str) -> int:
        """How many exchange orders carry this client id (a duplicate check)."""
        return sum(1 for o in self.engine.orders if o.client_order_id == client_order_id)

    def ccxt_urls(self, exchange_id: str) -> dict[str, Any]:
        """The ``urls`` override that points a ccxt Binance client at this server."""
        import ccxt

        api = dict(getattr(ccxt, exchange_id)().urls["api"])
        for key, value in api.items():
            if isinstance(value, str):
                local = value
                for host in _HOSTS:
                    local = local.replace(host, self.url)
                api[key] = local
        return {"api": api}

    # ------------------------------------------------------------- Binance's shape of faults
    def rate_limited(self, fault: Fault) -> Answer:
        return 429, {"code": -1003, "msg": "Too many requests."}, {"Retry-After": f"{fault.retry_after:g}"}

    def ip_banned(self, seconds_left: float) -> Answer:
        # Binance's LIMITS: 418 to an auto-banned IP, Retry-After the seconds until the ban is over; the body is
        # code -1003 naming the end of the ban in milliseconds.
        until = int(time.time() * 1000 + seconds_left * 1000)
        message = (
            f"Way too much request weight used; IP banned until {until}. "
            "Please use the websocket for live updates to avoid bans."
        )
        return 418, {"code": -1003, "msg": message}, {"Retry-After": str(math.ceil(seconds_left))}

    def rejected(self, fault: Fault) -> Answer:
        code = -1013 if fault.code is None else fault.code
        return 400, {"code": code, "msg": fault.message or "Filter failure: NOTIONAL"}, {}

    def fill_first(self, method: str, path: str, params: dict[str, Any]) -> None:
        family: Family = "usdm" if path.startswith("/fapi") else "coinm" if path.startswith("/dapi") else "spot"
        client_id = params.get("origClientOrderId")
        if client_id is not None:
            self.engine.fill(family, client_id)

    def _handle(self, method: str, path: str, params: Params, api_key: str | None) -> Answer:
        replayed = self.replays.get((method, path))
        route = ROUTES.get((method, path)) or (None if replayed is None else (lambda engine, params: replayed))
        if route is None:
            return 404, {"code": -1, "msg": f"no route {method} {path}"}, {}
        if path not in _PUBLIC_PATHS:
            if api_key is None:
                return 401, {"code": -2014, "msg": "API-key format invalid."}, {}
            if api_key != self.api_key:
                return 401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, {}
        if "timestamp" in params and not _inside_recv_window(params, self.engine.now_ms()):
            return 400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}, {}
        try:
            with self.engine._lock:
                body = replayed if replayed is not None else route(self.engine, params)
        except ExchangeRejectError as reject:
            return reject.status, {"code": reject.code, "msg": reject.message}, {}
        if self.duplicate_trades and path.endswith(("myTrades", "userTrades")) and isinstance(body, list):
            body = [row for row in body for _ in range(2)]
        return 200, body, {}


def _inside_recv_window(params: Params, server_ms: int) -> bool:
    """Binance's rule: not more than 1 s ahead of the server, not older than ``recvWindow`` (5 s by default)."""
    try:
        stamp = int(params["timestamp"])
        window = int(params.get("recvWindow", "5000"))
    except ValueError:
        return False
    return stamp < server_ms + 1000 and server_ms - stamp <= window


def _make_handler(fake: FakeExchange) -> type[FakeHandler]:
    class Handler(FakeHandler):
        def serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                params.update(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            api_key = self.headers.get("X-MBX-APIKEY")
            recorded = {k: v for k, v in params.items() if k not in ("signature", "timestamp", "recvWindow")}
            fake.requests.append(RecordedRequest(method, parts.path, recorded, api_key))
            if time.monotonic() < fake._maintenance_until:
                self.send_answer((503, {"code": 1, "msg": "System is under maintenance."}, {}))
                return

            def process() -> Answer:
                return fake._handle(method, parts.path, params, api_key)

            self.send_answer(fake.answer_with_faults(method, parts.path, params, process))

    return Handler
