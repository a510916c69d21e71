"""A token bucket: at most ``capacity`` messages at once, then one every ``interval`` seconds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """Holds up to ``capacity`` tokens and gains ``1 / interval`` per second; a message spends one.

    ``clock`` is a monotonic clock in seconds (injected, so tests drive time).
    """

    capacity: float
    interval: float
    clock: Callable[[], float]
    tokens: float = field(default=-1.0)
    _last: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.interval <= 0:
            raise ValueError("a token bucket needs capacity >= 1 and a positive interval")
        if self.tokens < 0:
            self.tokens = self.capacity
        self._last = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) / self.interval)
        self._last = now

    def take(self) -> bool:
        """Spend a token if one is there."""
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_time(self) -> float:
        """Seconds until the next token (0 when one is there)."""
        self._refill()
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) * self.interval
