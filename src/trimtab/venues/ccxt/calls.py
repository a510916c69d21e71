"""Calling ccxt: one rate limiter per key, bounded retries of reads, and ccxt's errors translated to trimtab's.

Reads and cancels are retried with bounded backoff and jitter; creates never are. A translated error names the
venue and the operation, carries the exchange's requested pause (``Retry-After`` or its own rate-limit
headers) and never the keys. An answer the exchange's rules read as an IP ban (``ExchangeRules.ip_ban``)
becomes :class:`~trimtab.errors.IpBannedError` and bans the limiter: nothing is sent, by any caller sharing
it, until the ban ends.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import ccxt

from trimtab.errors import IpBannedError
from trimtab.venues.ccxt.errors import retry_after_seconds, translate
from trimtab.venues.ccxt.retry import RateLimiter, RetryPolicy, call_with_retry
from trimtab.venues.exchange_rules import ExchangeRules, http_status

T = TypeVar("T")


class ExchangeCalls:
    """How a venue calls its ccxt exchange: paced by ``limiter``, reads retried by ``retry``, errors translated.

    Parameters
    ----------
    exchange:
        The configured ccxt sync exchange.
    name:
        The venue's name, in error messages.
    rules:
        The exchange's rules (its own rate-limit headers), or None for none.
    redact:
        Removes the keys from a message.
    """

    def __init__(
        self,
        exchange: Any,
        *,
        name: str,
        rules: ExchangeRules | None,
        redact: Callable[[str], str],
        retry: RetryPolicy,
        limiter: RateLimiter,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self._exchange = exchange
        self._name = name
        self._rules = rules
        self._redact = redact
        self.retry = retry
        self.limiter = limiter
        self._sleep = sleep
        self._rng = random.Random(seed)

    def translate(self, error: Exception, operation: str, **kwargs: Any) -> Exception:
        """trimtab's error for what ccxt raised during ``operation`` (re-reading the clock offset after a
        refused timestamp, so the next attempt signs with the exchange's time)."""
        if isinstance(error, ccxt.InvalidNonce):
            self._refresh_time_difference()
        headers = getattr(self._exchange, "last_response_headers", None)
        banned = self._ban(error, headers)
        if banned is not None:
            return banned
        retry_after = retry_after_seconds(headers)
        if retry_after is None and headers and self._rules is not None and self._rules.rate_limit_pause is not None:
            exchange_ms = self._exchange.milliseconds() - float(self._exchange.options.get("timeDifference") or 0)
            retry_after = self._rules.rate_limit_pause(headers, exchange_ms)
        return translate(
            error,
            venue=self._name,
            operation=operation,
            retry_after=retry_after,
            redact=self._redact,
            **kwargs,
        )

    def _ban(self, error: Exception, headers: Any) -> IpBannedError | None:
        """The IP ban an answer announces (the exchange's rule reads its status and headers), with every request
        on this limiter refused until it ends; None when the answer is no ban."""
        if self._rules is None or self._rules.ip_ban is None or not isinstance(error, ccxt.BaseError):
            return None
        status = http_status(error)
        seconds = self._rules.ip_ban(status, headers or {})
        if seconds is None:
            return None
        self.limiter.ban(seconds)
        text = self._redact(
            f"{self._name}: the exchange banned this IP (HTTP {status}): nothing is sent for {seconds:g} s"
        )
        return IpBannedError(text, retry_after=seconds)

    def _refresh_time_difference(self) -> None:
        """The exchange refused a request for its timestamp (Binance -1021): the clocks drifted apart since the
        offset was read at start, so read it again; the next attempt signs with the exchange's time."""
        if not self._exchange.options.get("adjustForTimeDifference"):
            return
        loader = getattr(self._exchange, "load_time_difference", None)
        if callable(loader):
            with contextlib.suppress(Exception):  # the request that failed is reported; this is a best effort
                loader()

    def retrying(self, call: Callable[[], T]) -> T:
        """``call`` paced by the limiter and retried on retryable errors (it translates its own errors)."""
        return call_with_retry(call, self.retry, self.limiter, self._rng, self._sleep)

    def read(self, operation: str, call: Callable[[], T]) -> T:
        """A read: ``call`` paced, translated and retried."""

        def attempt() -> T:
            try:
                return call()
            except Exception as error:
                raise self.translate(error, operation) from None

        return self.retrying(attempt)

    def ignoring_no_change(self, operation: str, call: Callable[[], Any]) -> None:
        """A setting read as a success when the exchange says the account has it already."""
        try:
            self.read(operation, call)
        except Exception as error:
            if "no need to change" in str(error).lower() or "NoChange" in str(error) or "AlreadySet" in str(error):
                return  # the account already has this setting: a success
            raise
