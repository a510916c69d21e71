"""Bounded retries with exponential backoff and jitter, and one rate limiter shared per API key.

Reads and cancels go through :func:`call_with_retry`; creates never do (an order is never resent blindly).
A ``Retry-After`` from the venue pauses every caller that shares the limiter, not just the one that got it.
An IP ban (:class:`~trimtab.errors.IpBannedError`) is never retried: the limiter refuses every request until
it ends (:meth:`RateLimiter.ban`), so nothing leaves while the exchange would only lengthen the ban.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from trimtab.errors import IpBannedError, RateLimitedError, RetryableError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a retryable call is repeated.

    The n-th retry waits ``min(max_delay, base_delay * 2**n)`` scaled by a random factor in
    ``[1 - jitter, 1]``, or the venue's ``Retry-After`` when that is longer (capped at ``max_retry_after``).
    """

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    def delay(self, retry: int, rng: random.Random, retry_after: float | None = None) -> float:
        """The wait before retry number ``retry`` (0-based)."""
        backoff = min(self.max_delay, self.base_delay * (2.0**retry)) * (1.0 - self.jitter * rng.random())
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, self.max_retry_after))
        return backoff


@dataclass
class RateLimiter:
    """Spaces requests at least ``min_interval`` seconds apart and honours pauses the venue asks for."""

    min_interval: float = 0.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next_slot: float = 0.0
    _paused_until: float = 0.0
    _banned_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self) -> None:
        """Wait for the next free slot.

        Raises
        ------
        IpBannedError
            While a ban lasts (:meth:`ban`): the request must not be sent at all.
        """
        with self._lock:
            now = self.clock()
            if now < self._banned_until:
                left = self._banned_until - now
                raise IpBannedError(f"the exchange banned this IP: nothing is sent for another {left:.0f} s", left)
            start = max(now, self._next_slot, self._paused_until)
            self._next_slot = start + self.min_interval
        if start > now:
            self.sleep(start - now)

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (a ``Retry-After``)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)

    def ban(self, seconds: float) -> None:
        """Refuse every request for ``seconds`` (the exchange banned the IP): :meth:`acquire` raises meanwhile."""
        with self._lock:
            self._banned_until = max(self._banned_until, self.clock() + seconds)


_LIMITERS: dict[str, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(exchange_id: str, api_key: str | None, min_interval: float) -> RateLimiter:
    """The one limiter for this exchange and key (keys are hashed, never kept in clear)."""
    digest = hashlib.sha256((api_key or "").encode()).hexdigest()[:16]
    name = f"{exchange_id}:{digest}"
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(name)
        if limiter is None:
            limiter = _LIMITERS[name] = RateLimiter(min_interval=min_interval)
        return limiter


def call_with_retry(
    call: Callable[[], T],
    policy: RetryPolicy,
    limiter: RateLimiter,
    rng: random.Random,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``, retrying :class:`~trimtab.errors.RetryableError` up to ``policy.attempts`` times in all.

    Raises
    ------
    RetryableError
        The last error once the attempts are spent.
    """
    for attempt in range(policy.attempts):
        limiter.acquire()
        try:
            return call()
        except RetryableError as error:
            if attempt + 1 >= policy.attempts or isinstance(error, IpBannedError):
                raise
            retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
            if retry_after is not None:
                limiter.pause(retry_after)
            sleep(policy.delay(attempt, rng, retry_after))
    raise AssertionError("unreachable: the loop returns or raises")
