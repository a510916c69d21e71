from __future__ import annotations

import random

import pytest

from trimtab.errors import OrderRejectedError, RateLimitedError, VenueUnavailableError
from trimtab.venues.ccxt.retry import RateLimiter, RetryPolicy, call_with_retry, shared_limiter


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
