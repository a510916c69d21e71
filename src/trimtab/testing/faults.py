"""Scripted faults of a fake exchange's HTTP server, shared by the fake Binance and the fake Bybit.

A :class:`Fault` is consumed, in the order faults were added, by the first request it matches
(method and a path suffix), ``times`` times:

==================  ==========================================================================
``timeout``         process the request (``accept=True``: the exchange accepted it), then hold
                    the answer for ``delay`` seconds so the client times out
``drop``            process the request (if ``accept``), then close the connection without an answer
``http_error``      answer ``status`` (5xx) with a plain-text body, after processing if ``accept``
``rate_limit``      answer as the exchange answers a request over its rate limit (Binance: 429 with
                    ``Retry-After``; Bybit: retCode 10006 with ``X-Bapi-Limit-Reset-Timestamp``), after
                    ``retry_after`` seconds
``ip_ban``          ban the client's IP for ``retry_after`` seconds: this request and every one during the
                    ban is answered as the exchange answers a banned IP (Binance: 418 with
                    ``Retry-After``; Bybit: 403 "access too frequent"), unprocessed, and counted
``reject``          answer the exchange's refusal ``code`` and ``message`` (nothing is processed)
``fill_first``      fill the order the request names before handling it (a cancel racing a fill)
==================  ==========================================================================

What a rate limit or a refusal looks like, and what filling first means, is the exchange's: each fake
answers them through :class:`ExchangeFaults`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal, Protocol

FaultKind = Literal["timeout", "drop", "http_error", "rate_limit", "ip_ban", "reject", "fill_first"]
Answer = tuple[int, Any, dict[str, str]]
"""An HTTP answer: status, body (JSON-able, or a string sent as plain text) and extra headers."""


@dataclass
class Fault:
    """One scripted misbehaviour; see the module docstring for the kinds.

    ``code`` and ``message`` of a ``reject`` default to the exchange's own example refusal.
    """

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    times: int = 1
    accept: bool = True
    delay: float = 1.0
    status: int = 500
    retry_after: float = 1.0
    code: int | None = None
    message: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in (None, method) and (self.path is None or path.endswith(self.path))


class FaultScript:
    """The faults still to happen, taken one at a time by the requests they match (thread-safe)."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request, one of its ``times`` spent; None when there is none."""
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()


class ExchangeFaults(Protocol):
    """How one exchange answers the faults whose shape is its own."""

    def rate_limited(self, fault: Fault) -> Answer: ...

    def ip_banned(self, seconds_left: float) -> Answer: ...

    def rejected(self, fault: Fault) -> Answer: ...

    def fill_first(self, method: str, path: str, params: dict[str, Any]) -> None: ...


def faulty_answer(
    fault: Fault,
    method: str,
    path: str,
    params: dict[str, Any],
    process: Callable[[], Answer],
    exchange: ExchangeFaults,
) -> Answer | None:
    """The answer to a request that ``fault`` hit (None: close the connection without one).

    ``process`` handles the request as the exchange would (it changes the exchange's state).
    """
    if fault.kind == "rate_limit":
        return exchange.rate_limited(fault)
    if fault.kind == "reject":
        return exchange.rejected(fault)
    if fault.kind == "fill_first":
        exchange.fill_first(method, path, params)
        return process()
    answer = process() if fault.accept else None
    if fault.kind == "timeout":
        time.sleep(fault.delay)
        return answer
    if fault.kind == "drop":
        return None
    return fault.status, "Internal Server Error", {}


class FakeHandler(BaseHTTPRequestHandler):
    """An HTTP/1.1 handler that answers JSON or plain text, quietly, without Nagle's delay; a fake's handler
    implements :meth:`serve`."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out as separate writes: without this, Nagle's algorithm and the client's
        # delayed ACK add about 40 ms to every answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the fake's requests instead
        return

    def serve(self, method: str) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self.serve("GET")

    def do_POST(self) -> None:
        self.serve("POST")

    def do_DELETE(self) -> None:
        self.serve("DELETE")

    def do_PUT(self) -> None:
        self.serve("PUT")

    def send_answer(self, answer: Answer | None) -> None:
        """Send ``answer``; None closes the connection without a word (a lost response)."""
        if answer is None:
            self.close_connection = True
            self.connection.close()
            return
        status, body, headers = answer
        payload = (body if isinstance(body, str) else json.dumps(body)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout fault)
            self.close_connection = True
