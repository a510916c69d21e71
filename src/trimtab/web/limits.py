"""What the dashboard reads before it knows who is asking: bounded in size and in time.

* :class:`BodyLimit` refuses a request body past :data:`MAX_BODY_BYTES` with 413 before anything reads it:
  at once when ``Content-Length`` says so, or as soon as a chunked body grows past it. The application
  (and its token check) never sees such a request, so an unauthenticated upload costs the server nothing.
* :class:`HeaderTimeoutProtocol` closes a connection whose request line and headers have not all arrived
  :data:`HEADER_TIMEOUT_S` seconds after it opened (or after the previous answer on a kept-alive
  connection): a client sending its headers a byte at a time cannot hold a connection open for ever.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_BODY_BYTES = 64 * 1024
"""The largest request body accepted: every action's JSON is far smaller."""
HEADER_TIMEOUT_S = 10.0
"""How long a client may take to send a request's line and headers."""


class BodyLimit:
    """ASGI middleware: 413 for a body larger than ``limit`` bytes, before the application reads any of it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.limit
            except ValueError:
                too_large = True
            if too_large:
                await _refuse(send, self.limit)
                return
        received = 0
        started = refused = False

        async def bounded_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Answer now and tell the application the client left: it reads nothing more.
                    if not started and not refused:
                        refused = True
                        await _refuse(send, self.limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 was sent; whatever the application answers after it goes nowhere
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, bounded_receive, tracking_send)


async def _refuse(send: Send, limit: int) -> None:
    body = f'{{"detail": "request body larger than {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose headers do not arrive within ``HEADER_TIMEOUT_S``."""

    header_timeout_s = HEADER_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's headers arrived in full
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # the next request on a kept-alive connection gets the same time (disarmed if pipelined)
        super().on_response_complete()

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._expire)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _expire(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
