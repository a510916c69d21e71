"""Fault scenarios against the fake Bybit, through ccxt's real ``bybit`` class: the Binance scenarios' twins.

Bybit answers a refusal and a rate limit with HTTP 200 and a ``retCode`` (10006 "Too many visits!" with
``X-Bapi-Limit-Reset-Timestamp``, no ``Retry-After``); a timeout, a dropped connection or a gateway 5xx after
sending leaves an order "maybe placed", resolved by looking it up by its ``orderLinkId``, never resent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from trimtab.domain import Side
from trimtab.errors import AmbiguousOrderError, IpBannedError, OrderRejectedError, RateLimitedError
from trimtab.testing.fake_bybit import FakeBybit
from trimtab.testing.faults import Fault
from trimtab.testing.fixtures import CANARY_API_KEY, make_bybit_venue
from trimtab.venues.ccxt import CcxtVenue, RateLimiter
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType

CREATE = "/v5/order/create"
PERP = "BTC/USDT:USDT"


@pytest.fixture
def fake() -> Iterator[FakeBybit]:
    with FakeBybit(api_key=CANARY_API_KEY) as server:
        yield server


@pytest.fixture
def venue(fake: FakeBybit) -> Iterator[CcxtVenue]:
    built = make_bybit_venue(fake, timeout_ms=400)
    built.load_markets()
    yield built
    built.close()


def short(link_id: str, amount: float = 0.1) -> OrderRequest:
    return OrderRequest(link_id, PERP, Side.SELL, OrderType.MARKET, amount)


def resting_buy(link_id: str) -> OrderRequest:
    return OrderRequest(link_id, "BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, 50_000.0)


def orders_with(fake: FakeBybit, link_id: str) -> int:
    return sum(1 for order in fake.engine.orders if order.link_id == link_id)


def test_a_create_that_times_out_after_bybit_took_it_is_found_by_its_order_link_id(
    fake: FakeBybit, venue: CcxtVenue
) -> None:
    fake.add_fault(Fault("timeout", "POST", CREATE, accept=True, delay=0.8))
    with pytest.raises(AmbiguousOrderError) as raised:
        venue.create_order(short("tt-to-1-0"))
    assert raised.value.client_order_id == "tt-to-1-0"
    assert fake.count("POST", CREATE) == 1  # never resent
    found = venue.fetch_order("tt-to-1-0", PERP)
    assert found is not None and found.status is OrderStatus.FILLED and found.filled == pytest.approx(0.1)
    assert orders_with(fake, "tt-to-1-0") == 1
    assert fake.engine.positions["BTCUSDT"].size == pytest.approx(-0.1)


def test_a_lost_answer_after_acceptance_is_ambiguous_and_the_order_is_found_resting(
    fake: FakeBybit, venue: CcxtVenue
) -> None:
    fake.add_fault(Fault("drop", "POST", CREATE, accept=True))
    with pytest.raises(AmbiguousOrderError):
        venue.create_order(resting_buy("tt-drop-1-0"))
    assert fake.count("POST", CREATE) == 1
    found = venue.fetch_order("tt-drop-1-0", "BTC/USDT")
    assert found is not None and found.status is OrderStatus.OPEN


@pytest.mark.parametrize(("accept", "placed"), [(False, 0), (True, 1)])
def test_a_gateway_5xx_on_create_is_ambiguous_and_the_lookup_tells(
    fake: FakeBybit, venue: CcxtVenue, accept: bool, placed: int
) -> None:
    fake.add_fault(Fault("http_error", "POST", CREATE, accept=accept, status=502))
    with pytest.raises(AmbiguousOrderError):
        venue.create_order(short("tt-5xx-1-0"))
    assert fake.count("POST", CREATE) == 1
    found = venue.fetch_order("tt-5xx-1-0", PERP)
    assert (found is not None) is bool(placed)
    assert orders_with(fake, "tt-5xx-1-0") == placed


def test_a_rate_limited_read_waits_until_bybits_reset_time(fake: FakeBybit) -> None:
    waits: list[float] = []
    venue = make_bybit_venue(fake, sleep=waits.append, limiter=RateLimiter(min_interval=0.0, sleep=waits.append))
    fake.add_fault(Fault("rate_limit", "GET", "/v5/account/wallet-balance", retry_after=1.5))
    assert venue.fetch_balances()["USDT"] == pytest.approx(50_000.0)
    assert fake.count("GET", "/v5/account/wallet-balance") == 2
    # the wait covered X-Bapi-Limit-Reset-Timestamp (1.5 s ahead), not just the short backoff
    assert max(waits) == pytest.approx(1.5, abs=0.2)


def test_a_rate_limited_create_is_refused_once_and_not_retried(fake: FakeBybit, venue: CcxtVenue) -> None:
    fake.add_fault(Fault("rate_limit", "POST", CREATE, retry_after=2.0))
    with pytest.raises(RateLimitedError) as raised:
        venue.create_order(short("tt-429-1-0"))
    assert raised.value.retry_after == pytest.approx(2.0, abs=0.2)
    assert fake.count("POST", CREATE) == 1 and orders_with(fake, "tt-429-1-0") == 0


def test_transient_gateway_errors_on_reads_are_retried(fake: FakeBybit, venue: CcxtVenue) -> None:
    fake.add_fault(Fault("http_error", "GET", "/v5/account/wallet-balance", accept=False, status=503, times=2))
    assert venue.fetch_balances()["BTC"] == pytest.approx(0.5)
    assert fake.count("GET", "/v5/account/wallet-balance") == 3


def test_a_refusal_is_definitive(fake: FakeBybit, venue: CcxtVenue) -> None:
    fake.add_fault(Fault("reject", "POST", CREATE, code=110007, message="ab not enough for new order"))
    with pytest.raises(OrderRejectedError, match="110007"):
        venue.create_order(short("tt-rej-1-0"))
    assert fake.count("POST", CREATE) == 1 and fake.engine.orders == []


def test_a_cancel_racing_a_fill_returns_the_filled_order(fake: FakeBybit, venue: CcxtVenue) -> None:
    venue.create_order(resting_buy("tt-race-1-0"))
    fake.add_fault(Fault("fill_first", "POST", "/v5/order/cancel"))
    state = venue.cancel_order("tt-race-1-0", "BTC/USDT")
    assert state.status is OrderStatus.FILLED and state.filled == pytest.approx(0.01)


class Clock:
    """The rate limiter's clock, moved by hand (Bybit's ban is 10 minutes; the test does not wait them)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_an_ip_ban_stops_every_request_for_ten_minutes_and_nothing_hammers(fake: FakeBybit) -> None:
    # Bybit's V5 rate-limit page: a banned IP gets "403, access too frequent" on every request; stop all HTTP
    # sessions and wait at least 10 minutes (going on makes the ban permanent). ccxt raises RateLimitExceeded.
    clock = Clock()
    venue = make_bybit_venue(fake, limiter=RateLimiter(min_interval=0.0, clock=clock))
    venue.load_markets()
    fake.add_fault(Fault("ip_ban", "GET", "/v5/account/wallet-balance", retry_after=0.3))
    with pytest.raises(IpBannedError) as raised:
        venue.fetch_balances()
    assert raised.value.retry_after == pytest.approx(600.0)
    assert fake.count("GET", "/v5/account/wallet-balance") == 1  # not retried: a retry lengthens the ban
    sent = len(fake.requests)
    clock.now += 599.0
    with pytest.raises(IpBannedError):
        venue.fetch_balances()
    with pytest.raises(IpBannedError):
        venue.create_order(short("tt-ban-1-0"))
    assert len(fake.requests) == sent and fake.banned_requests == 0  # nothing left during the ban
    assert orders_with(fake, "tt-ban-1-0") == 0
    time.sleep(0.35)  # the fake's own ban (0.3 s of real time) ends
    clock.now += 1.0  # ten minutes after the 403 by the limiter's clock: requests may leave again
    assert venue.fetch_balances()["USDT"] == pytest.approx(50_000.0)
    venue.close()


def test_a_create_answered_403_is_refused_unplaced_not_ambiguous(fake: FakeBybit, venue: CcxtVenue) -> None:
    fake.add_fault(Fault("ip_ban", "POST", CREATE, retry_after=0.3))
    with pytest.raises(IpBannedError):
        venue.create_order(short("tt-ban-2-0"))
    assert fake.count("POST", CREATE) == 1 and orders_with(fake, "tt-ban-2-0") == 0
