"""The fake's error answer: what Binance sends back as ``{"code": ..., "msg": ...}``."""

from __future__ import annotations


class ExchangeRejectError(Exception):
    """A Binance error answer: HTTP status, Binance error code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{status} {code} {message}")
