from __future__ import annotations

import random

import pytest

from trimtab.errors import IpBannedError, OrderRejectedError, RateLimitedError, VenueUnavailableError
from trimtab.venues.binance.rules import ip_ban as binance_ban
from trimtab.venues.bybit.rules import ip_ban as bybit_ban
from trimtab.venues.ccxt.retry import RateLimiter, RetryPolicy, call_with_retry, shared_limiter
from trimtab.venues.exchange_rules import http_status


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_backoff_doubles_is_capped_and_jittered_downwards() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.5)
    rng = random.Random(1)
    for retry, full in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 3.0), (6, 3.0)]:
        delay = policy.delay(retry, rng)
        assert full * 0.5 <= delay <= full


def test_retry_after_lengthens_the_wait_up_to_its_cap() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0, jitter=0.0, max_retry_after=10.0)
    rng = random.Random(1)
    assert policy.delay(0, rng, retry_after=4.0) == pytest.approx(4.0)
    assert policy.delay(0, rng, retry_after=120.0) == pytest.approx(10.0)
    assert policy.delay(3, rng, retry_after=0.2) == pytest.approx(0.8)


def test_retryable_errors_are_retried_until_success() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    outcomes: list[Exception | str] = [VenueUnavailableError("down"), VenueUnavailableError("down"), "ok"]

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(attempts=4, base_delay=1.0, jitter=0.0)
    assert call_with_retry(call, policy, limiter, random.Random(0), clock.sleep) == "ok"
    assert clock.slept == [1.0, 2.0]


def test_attempts_are_bounded() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise VenueUnavailableError("down")

    clock = FakeClock()
    with pytest.raises(VenueUnavailableError):
        call_with_retry(
            call, RetryPolicy(attempts=3), RateLimiter(clock=clock, sleep=clock.sleep), random.Random(0), clock.sleep
        )
    assert len(calls) == 3


def test_definitive_errors_are_not_retried() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise OrderRejectedError("no")

    clock = FakeClock()
    with pytest.raises(OrderRejectedError):
        call_with_retry(call, RetryPolicy(), RateLimiter(clock=clock, sleep=clock.sleep), random.Random(0), clock.sleep)
    assert len(calls) == 1


def test_a_retry_after_pauses_every_caller_of_the_limiter() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    first = [RateLimitedError("slow down", retry_after=5.0)]

    def call() -> str:
        if first:
            raise first.pop()
        return "ok"

    policy = RetryPolicy(base_delay=0.01, jitter=0.0)
    call_with_retry(call, policy, limiter, random.Random(0), lambda seconds: None)  # the caller's own wait skipped
    assert sum(clock.slept) == pytest.approx(5.0)  # the limiter held the retry back for Retry-After


def test_the_limiter_spaces_requests() -> None:
    clock = FakeClock()
    limiter = RateLimiter(min_interval=0.25, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        limiter.acquire()
    assert clock.slept == [0.25, 0.25, 0.25]


def test_one_limiter_is_shared_per_exchange_and_key() -> None:
    one = shared_limiter("binance", "key-1", 0.05)
    assert shared_limiter("binance", "key-1", 0.05) is one
    assert shared_limiter("binance", "key-2", 0.05) is not one
    assert shared_limiter("binanceusdm", "key-1", 0.05) is not one


def test_an_ip_ban_is_not_retried_and_the_limiter_refuses_until_it_ends() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    calls = []

    def banned() -> None:
        calls.append(clock.now)
        limiter.ban(600.0)
        raise IpBannedError("403", retry_after=600.0)

    with pytest.raises(IpBannedError):
        call_with_retry(banned, RetryPolicy(attempts=4), limiter, random.Random(0), clock.sleep)
    assert calls == [100.0] and clock.slept == []  # one request, no backoff spent waiting to send another
    clock.now += 599.0
    with pytest.raises(IpBannedError) as refused:
        limiter.acquire()
    assert refused.value.retry_after == pytest.approx(1.0)
    clock.now += 1.0
    limiter.acquire()  # the ban is over


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ("bybit GET https://api.bybit.com/v5/account/wallet-balance 403 Forbidden 403, access too frequent", 403),
        ('binance 418 I\'m a Teapot {"code":-1003,"msg":"Way too much request weight used; IP banned until 1"}', 418),
        ('bybit {"retCode":10006,"retMsg":"Too many visits!"}', None),
    ],
)
def test_the_http_status_is_read_from_ccxts_two_message_shapes(message: str, status: int | None) -> None:
    assert http_status(Exception(message)) == status


def test_each_exchange_reads_its_own_ban() -> None:
    # Bybit: 403, at least 10 minutes (V5 rate-limit page); Binance: 418, its Retry-After (LIMITS), else 2 minutes.
    assert (bybit_ban(403, {}), bybit_ban(429, {}), bybit_ban(None, {})) == (600.0, None, None)
    assert (binance_ban(418, {"Retry-After": "7200"}), binance_ban(418, {}), binance_ban(429, {})) == (
        7200.0,
        120.0,
        None,
    )
