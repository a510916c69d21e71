"""The local HTTP server both fake exchanges (Binance and Bybit) run: its life, its faults and its replays.

A fake subclasses :class:`FakeServer`, says how its exchange answers the faults whose shape is its own
(:class:`~trimtab.testing.faults.ExchangeFaults`) and gives the handler that parses its requests
(:meth:`FakeServer.handler`); the handler sends :meth:`FakeServer.answer_with_faults`. The server listens on
127.0.0.1 on a free port, in a daemon thread, from :meth:`FakeServer.start` (or entering the ``with`` block)
to :meth:`FakeServer.stop`.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any, Self

from trimtab.testing.faults import Answer, FakeHandler, Fault, FaultScript, faulty_answer


class FakeServer(ABC):
    """A fake exchange's server: started and stopped, its scripted faults and the answers it replays verbatim."""

    exchange_name = "fake exchange"
    """How the exchange is named when its URL is asked for while it is not running."""

    def __init__(self) -> None:
        self.script = FaultScript()
        self.replays: dict[tuple[str, str], Any] = {}
        self._server: ThreadingHTTPServer | None = None
        self._banned_until = 0.0
        self.banned_requests = 0
        """Requests that reached the server while the client's IP was banned (each one lengthens a real ban)."""

    # ------------------------------------------------------------- lifecycle
    @abstractmethod
    def handler(self) -> type[FakeHandler]:
        """The request handler class bound to this fake."""

    def start(self) -> Self:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.exchange_name} is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ------------------------------------------------------------- scripting
    @property
    def faults(self) -> list[Fault]:
        """The faults still to happen."""
        return self.script.faults

    def add_fault(self, fault: Fault) -> None:
        """Misbehave once (or ``fault.times``) on the next matching request."""
        self.script.add(fault)

    def replay(self, method: str, path: str, body: Any) -> None:
        """Answer ``method path`` with ``body`` verbatim (a recorded real answer), after the usual checks (the key)."""
        self.replays[(method, path)] = body

    # ------------------------------------------------------------- serving
    def answer_with_faults(
        self, method: str, path: str, params: dict[str, Any], process: Callable[[], Answer]
    ) -> Answer | None:
        """The answer to a request: ``process``'s (the exchange handling it), unless a scripted fault hits it
        (None: close the connection without one)."""
        left = self._banned_until - time.monotonic()
        if left > 0.0:
            self.banned_requests += 1
            return self.ip_banned(left)
        fault = self.script.take(method, path)
        if fault is not None and fault.kind == "ip_ban":
            self._banned_until = time.monotonic() + fault.retry_after
            return self.ip_banned(fault.retry_after)
        return process() if fault is None else faulty_answer(fault, method, path, params, process, self)

    # ------------------------------------------------------------- the exchange's shape of faults
    @abstractmethod
    def rate_limited(self, fault: Fault) -> Answer:
        """The exchange's answer to a request over its rate limit."""

    @abstractmethod
    def ip_banned(self, seconds_left: float) -> Answer:
        """The exchange's answer to any request from an IP it has banned for another ``seconds_left``."""

    @abstractmethod
    def rejected(self, fault: Fault) -> Answer:
        """The exchange's refusal carrying the fault's ``code`` and ``message`` (or its own example's)."""

    @abstractmethod
    def fill_first(self, method: str, path: str, params: dict[str, Any]) -> None:
        """Fill the order the request names (a cancel racing a fill)."""
