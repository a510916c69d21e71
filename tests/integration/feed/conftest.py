"""A local HTTP server that answers like Binance's public market-data endpoints (klines, fundingRate)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def _spot_symbol(base: str, quote: str) -> dict[str, Any]:
    return {
        "symbol": base + quote,
        "status": "TRADING",
        "baseAsset": base,
        "quoteAsset": quote,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "permissions": ["SPOT"],
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
        ],
    }


def _perp_symbol(base: str, quote: str) -> dict[str, Any]:
    info = _spot_symbol(base, quote)
    info.update(
        {
            "pair": base + quote,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "marginAsset": quote,
            "pricePrecision": 2,
            "quantityPrecision": 3,
            "underlyingType": "COIN",
            "timeInForce": ["GTC"],
        }
    )
    for key in ("isSpotTradingAllowed", "isMarginTradingAllowed", "permissions", "quoteAssetPrecision"):
        info.pop(key)
    return info


@dataclass
class FakeBinance:
    """Series served by the fake; tests edit them and read ``requests`` afterwards."""

    spot_days: list[int] = field(default_factory=list)  # open times (ms) of BTCUSDT daily spot candles
    perp_days: list[int] = field(default_factory=list)
    funding_times: list[int] = field(default_factory=list)
    now_ms: int = START_MS + 40 * DAY_MS
    page_cap: int = 1000  # the most rows one answer holds, whatever the limit asked
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    @staticmethod
    def close_of(open_ms: int) -> float:
        return 40_000.0 + (open_ms - START_MS) / DAY_MS * 100.0

    def klines(self, days: list[int], params: dict[str, str]) -> list[list[Any]]:
        start = int(params.get("startTime", 0))
        end = int(params.get("endTime", 10**15))
        limit = min(int(params.get("limit", 500)), self.page_cap)
        rows = [t for t in days if start <= t <= end][:limit]
        out = []
        for t in rows:
            c = self.close_of(t)
            out.append(
                [t, str(c - 50), str(c + 100), str(c - 100), str(c), "12.5", t + DAY_MS - 1, "0", 10, "0", "0", "0"]
            )
        return out

    def funding(self, params: dict[str, str]) -> list[dict[str, Any]]:
        start = int(params.get("startTime", 0))
        end = int(params.get("endTime", 10**15))
        limit = min(int(params.get("limit", 100)), self.page_cap)
        rows = [t for t in self.funding_times if start <= t <= end][:limit]
        return [
            {
                "symbol": "BTCUSDT",
                "fundingTime": t + 8,
                "fundingRate": f"{0.0001 + (t - START_MS) / 8 / HOUR_MS * 1e-6:.8f}",
                "markPrice": "40000",
            }
            for t in rows
        ]

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        self.requests.append((path, params))
        markets = {"timezone": "UTC", "serverTime": self.now_ms, "rateLimits": [], "exchangeFilters": []}
        if path == "/api/v3/exchangeInfo":
            return 200, {**markets, "symbols": [_spot_symbol("BTC", "USDT")]}
        if path == "/fapi/v1/exchangeInfo":
            return 200, {**markets, "symbols": [_perp_symbol("BTC", "USDT")]}
        if path == "/dapi/v1/exchangeInfo":
            return 200, {**markets, "symbols": []}
        if path in {"/api/v3/time", "/fapi/v1/time"}:
            return 200, {"serverTime": self.now_ms}
        if path == "/api/v3/klines":
            return 200, self.klines(self.spot_days, params)
        if path == "/fapi/v1/klines":
            return 200, self.klines(self.perp_days, params)
        if path == "/fapi/v1/fundingRate":
            return 200, self.funding(params)
        return 404, {"code": -1, "msg": f"no route {path}"}


@pytest.fixture
def fake_binance() -> Iterator[FakeBinance]:
    state = FakeBinance()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            status, body = state.answer(parts.path, params)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
