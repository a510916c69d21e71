"""pytest fixtures and helpers around the fake exchange; import them into a ``conftest.py``.

>>> from trimtab.testing.fixtures import fake_exchange, make_ccxt_venue  # in conftest.py
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from trimtab.testing.fake_bybit import FakeBybit
from trimtab.testing.fake_exchange import FakeExchange
from trimtab.venues.ccxt import CcxtVenue, Credentials, RateLimiter, RetryPolicy, build_ccxt_venue

CANARY_API_KEY = "CANARY-KEY-7f3e9c1d2b4a"
CANARY_SECRET = "CANARY-SECRET-5a8d0e6f1c7b"
"""A recognisable key pair; tests assert it never appears in logs, reprs or errors."""

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, jitter=0.5, max_retry_after=2.0)
"""Retry quickly in tests: the fake answers on 127.0.0.1."""


def make_ccxt_venue(
    fake: FakeExchange,
    exchange_id: str = "binance",
    *,
    timeout_ms: int = 1500,
    retry: RetryPolicy = FAST_RETRY,
    sleep: Callable[[float], None] | None = None,
    position_mode: Any = "one-way",
    margin_mode: str | None = None,
    limiter: RateLimiter | None = None,
) -> CcxtVenue:
    """A :class:`CcxtVenue` using the real ccxt client, pointed at ``fake`` and holding the canary keys.

    ccxt's weighted rate limiter is off and the venue gets its own unthrottled limiter (the fake needs no
    pacing) unless ``limiter`` is given.
    """
    fake.api_key = CANARY_API_KEY
    credentials = Credentials(CANARY_API_KEY, CANARY_SECRET, source="test canary")
    kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    return build_ccxt_venue(
        exchange_id,
        credentials,
        config={"urls": fake.ccxt_urls(exchange_id), "timeout": timeout_ms, "enableRateLimit": False},
        retry=retry,
        limiter=limiter or RateLimiter(min_interval=0.0),
        position_mode=position_mode,
        margin_mode=margin_mode,
        seed=7,
        **kwargs,
    )


def make_ccxt_client(fake: FakeExchange, exchange_id: str = "binance", **config: Any) -> Any:
    """A bare ccxt client (``binance`` or ``binanceusdm``) pointed at ``fake``, holding the canary keys."""
    import ccxt

    fake.api_key = CANARY_API_KEY
    settings: dict[str, Any] = {
        "apiKey": CANARY_API_KEY,
        "secret": CANARY_SECRET,
        "urls": fake.ccxt_urls(exchange_id),
        "timeout": 1500,
        "enableRateLimit": False,
        "options": {"fetchCurrencies": False, "fetchMargins": False},
    }
    settings.update(config)
    return getattr(ccxt, exchange_id)(settings)


@pytest.fixture
def fake_exchange() -> Iterator[FakeExchange]:
    """A running fake Binance (spot and USD-M) with the default markets and balances."""
    with FakeExchange(api_key=CANARY_API_KEY) as fake:
        yield fake


@pytest.fixture
def spot_venue(fake_exchange: FakeExchange) -> Iterator[CcxtVenue]:
    """The ccxt ``binance`` venue trading against :func:`fake_exchange`."""
    venue = make_ccxt_venue(fake_exchange, "binance")
    yield venue
    venue.close()


@pytest.fixture
def perp_venue(fake_exchange: FakeExchange) -> Iterator[CcxtVenue]:
    """The ccxt ``binanceusdm`` venue trading against :func:`fake_exchange`."""
    venue = make_ccxt_venue(fake_exchange, "binanceusdm")
    yield venue
    venue.close()


def make_bybit_venue(
    fake: FakeBybit,
    *,
    timeout_ms: int = 1500,
    retry: RetryPolicy = FAST_RETRY,
    sleep: Callable[[float], None] | None = None,
    limiter: RateLimiter | None = None,
) -> CcxtVenue:
    """A :class:`CcxtVenue` over ccxt's real ``bybit`` class, pointed at the fake Bybit, holding the canary keys
    (ccxt's weighted limiter off, its own unthrottled rate limiter unless ``limiter`` is given)."""
    fake.api_key = CANARY_API_KEY
    kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    return build_ccxt_venue(
        "bybit",
        Credentials(CANARY_API_KEY, CANARY_SECRET, source="test canary"),
        config={"urls": fake.ccxt_urls(), "timeout": timeout_ms, "enableRateLimit": False},
        retry=retry,
        limiter=limiter or RateLimiter(min_interval=0.0),
        seed=7,
        **kwargs,
    )
