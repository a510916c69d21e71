"""Fault scenarios: the real ccxt client against the fake Binance, each with its expected outcome.

Invariants checked: at most one exchange order per client id (no blind resend), ambiguous creates are
resolved by looking the order up, definitive refusals are not retried, reads back off and honour
``Retry-After``.
"""

from __future__ import annotations

import time

import pytest

from trimtab.domain import Side
from trimtab.errors import (
    AmbiguousOrderError,
    AuthenticationError,
    IpBannedError,
    OrderRejectedError,
    PositionModeError,
    RateLimitedError,
    VenueUnavailableError,
)
from trimtab.testing.fake_exchange import FakeExchange, Fault
from trimtab.testing.fixtures import make_ccxt_venue
from trimtab.venues.ccxt import CcxtVenue, RateLimiter, RetryPolicy
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType

SPOT = "BTC/USDT"
PERP = "BTC/USDT:USDT"


def market_buy(client_id: str, amount: float = 0.01, symbol: str = SPOT) -> OrderRequest:
    return OrderRequest(client_id, symbol, Side.BUY, OrderType.MARKET, amount)


def limit_buy(client_id: str, price: float = 50_000.0, amount: float = 0.01) -> OrderRequest:
    return OrderRequest(client_id, SPOT, Side.BUY, OrderType.LIMIT, amount, price)


def test_create_times_out_after_the_exchange_accepted_it(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, timeout_ms=400)
    venue.load_markets()
    fake_exchange.add_fault(Fault("timeout", "POST", "/api/v3/order", accept=True, delay=0.8))
    with pytest.raises(AmbiguousOrderError) as raised:
        venue.create_order(market_buy("timeout-1"))
    assert raised.value.client_order_id == "timeout-1"
    assert fake_exchange.count("POST", "/api/v3/order") == 1  # never resent
    found = venue.fetch_order("timeout-1", SPOT)
    assert found is not None and found.status is OrderStatus.FILLED
    assert found.filled == pytest.approx(0.01)
    assert fake_exchange.orders_with_client_id("timeout-1") == 1


def test_connection_dropped_after_acceptance_is_ambiguous(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()
    fake_exchange.add_fault(Fault("drop", "POST", "/api/v3/order", accept=True))
    with pytest.raises(AmbiguousOrderError):
        venue.create_order(limit_buy("drop-1"))
    assert fake_exchange.count("POST", "/api/v3/order") == 1
    found = venue.fetch_order("drop-1", SPOT)
    assert found is not None and found.status is OrderStatus.OPEN


def test_5xx_on_create_before_acceptance_is_ambiguous_and_the_lookup_finds_nothing(
    fake_exchange: FakeExchange,
) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()
    fake_exchange.add_fault(Fault("http_error", "POST", "/api/v3/order", accept=False, status=502))
    with pytest.raises(AmbiguousOrderError):
        venue.create_order(market_buy("5xx-1"))
    assert fake_exchange.count("POST", "/api/v3/order") == 1
    assert venue.fetch_order("5xx-1", SPOT) is None
    assert fake_exchange.orders_with_client_id("5xx-1") == 0


def test_5xx_on_create_after_acceptance_is_resolved_by_lookup(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()
    fake_exchange.add_fault(Fault("http_error", "POST", "/api/v3/order", accept=True, status=500))
    with pytest.raises(AmbiguousOrderError):
        venue.create_order(market_buy("5xx-2"))
    found = venue.fetch_order("5xx-2", SPOT)
    assert found is not None and found.status is OrderStatus.FILLED
    assert fake_exchange.orders_with_client_id("5xx-2") == 1


def test_an_order_invisible_for_a_while_is_not_found_then_found(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()
    fake_exchange.engine.invisible_for = 1.0
    placed = venue.create_order(limit_buy("late-1"))
    assert placed.status is OrderStatus.OPEN
    assert venue.fetch_order("late-1", SPOT) is None  # evidence, not proof
    assert venue.fetch_open_orders(SPOT) == []
    time.sleep(1.1)
    found = venue.fetch_order("late-1", SPOT)
    assert found is not None and found.exchange_order_id == placed.exchange_order_id


def test_partial_fill_then_cancel_on_a_perpetual(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, "binanceusdm")
    venue.create_order(OrderRequest("perp-part-1", PERP, Side.SELL, OrderType.LIMIT, 0.5, 61_000.0))
    fake_exchange.fill(PERP, "perp-part-1", 0.2)
    canceled = venue.cancel_order("perp-part-1", PERP)
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.filled == pytest.approx(0.2)
    assert canceled.fee == pytest.approx(0.2 * 61_000.0 * 0.001)  # summed from the order's trades
    (position,) = venue.fetch_positions()
    assert position.amount == pytest.approx(-0.2)


def test_cancel_racing_a_fill_returns_the_filled_order(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.create_order(limit_buy("race-1"))
    fake_exchange.add_fault(Fault("fill_first", "DELETE", "/api/v3/order"))
    state = venue.cancel_order("race-1", SPOT)
    assert state.status is OrderStatus.FILLED
    assert state.filled == pytest.approx(0.01)


def test_a_cancel_that_timed_out_is_retried_and_settles(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, timeout_ms=300)
    venue.create_order(limit_buy("cancel-timeout-1"))
    fake_exchange.add_fault(Fault("timeout", "DELETE", "/api/v3/order", accept=True, delay=0.5))
    state = venue.cancel_order("cancel-timeout-1", SPOT)
    assert state.status is OrderStatus.CANCELED
    assert fake_exchange.count("DELETE", "/api/v3/order") >= 2  # retried (a loaded machine may need more)


def test_duplicate_fill_events_are_deduplicated_by_trade_id(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.create_order(limit_buy("dup-fill-1", amount=0.03))
    fake_exchange.fill(SPOT, "dup-fill-1", 0.01)
    fake_exchange.fill(SPOT, "dup-fill-1", 0.02)
    fake_exchange.duplicate_trades = True
    fills = venue.fetch_fills(SPOT)
    assert len(fills) == 2
    assert len({f.trade_id for f in fills}) == 2
    assert sum(f.amount for f in fills) == pytest.approx(0.03)
    state = venue.fetch_order("dup-fill-1", SPOT)
    # each trade's fee once, in BTC: Binance charges a spot buy's commission in the asset bought
    assert state is not None and state.fee == pytest.approx(0.03 * 0.001) and state.fee_currency == "BTC"


def test_429_on_a_read_is_honoured_with_backoff(fake_exchange: FakeExchange) -> None:
    waits: list[float] = []
    limiter = RateLimiter(min_interval=0.0, sleep=waits.append)
    venue = make_ccxt_venue(fake_exchange, sleep=waits.append, limiter=limiter)
    fake_exchange.add_fault(Fault("rate_limit", "GET", "/api/v3/account", retry_after=1.5))
    balances = venue.fetch_balances()
    assert balances["USDT"] == pytest.approx(100_000.0)
    assert fake_exchange.count("GET", "/api/v3/account") == 2
    assert max(waits) >= 1.5  # the wait covered Retry-After, not just the short backoff


def test_429_on_create_is_not_retried(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()
    fake_exchange.add_fault(Fault("rate_limit", "POST", "/api/v3/order", retry_after=2.0))
    with pytest.raises(RateLimitedError) as raised:
        venue.create_order(limit_buy("429-1"))
    assert raised.value.retry_after == pytest.approx(2.0)
    assert fake_exchange.count("POST", "/api/v3/order") == 1
    assert fake_exchange.orders_with_client_id("429-1") == 0


def test_transient_5xx_on_reads_is_retried(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    fake_exchange.add_fault(Fault("http_error", "GET", "/api/v3/account", accept=False, status=503, times=2))
    assert venue.fetch_balances()["BTC"] == pytest.approx(1.0)
    assert fake_exchange.count("GET", "/api/v3/account") == 3


def test_maintenance_stops_reads_after_bounded_retries_and_refuses_creates(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()
    fake_exchange.maintenance(30.0)
    with pytest.raises(VenueUnavailableError):
        venue.fetch_balances()
    assert fake_exchange.count("GET", "/api/v3/account") == 4  # the policy's attempts, then give up
    with pytest.raises(VenueUnavailableError):
        venue.create_order(limit_buy("maint-1"))
    assert fake_exchange.count("POST", "/api/v3/order") == 1


def test_a_short_maintenance_is_ridden_out_by_patient_reads(fake_exchange: FakeExchange) -> None:
    patient = RetryPolicy(attempts=5, base_delay=0.15, max_delay=0.3, jitter=0.0)
    venue = make_ccxt_venue(fake_exchange, retry=patient)
    fake_exchange.maintenance(0.3)
    assert venue.fetch_balances()["USDT"] == pytest.approx(100_000.0)


def test_exchange_reject_for_min_notional_is_definitive(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, "binanceusdm")
    venue.load_markets()
    fake_exchange.add_fault(
        Fault("reject", "POST", "/fapi/v1/order", code=-4164, message="Order's notional must be no smaller than 5")
    )
    with pytest.raises(OrderRejectedError):
        venue.create_order(market_buy("minnot-1", amount=0.01, symbol=PERP))
    assert fake_exchange.count("POST", "/fapi/v1/order") == 1


def test_below_min_notional_is_refused_before_sending(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()
    with pytest.raises(OrderRejectedError, match="notional"):
        venue.create_order(limit_buy("minnot-2", price=60_000.0, amount=0.00005))
    assert fake_exchange.count("POST", "/api/v3/order") == 0


def test_amounts_leave_truncated_to_the_step(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    state = venue.create_order(limit_buy("trunc-1", amount=0.0123456789))
    sent = [r for r in fake_exchange.requests if r.method == "POST" and r.path == "/api/v3/order"][-1]
    assert sent.params["quantity"] == "0.01234"
    assert sent.params["newClientOrderId"] == "trunc-1"
    assert state.amount == pytest.approx(0.01234)


def test_hedge_position_mode_is_refused(fake_exchange: FakeExchange) -> None:
    fake_exchange.engine.dual_side_position = True
    venue = make_ccxt_venue(fake_exchange, "binanceusdm")
    with pytest.raises(PositionModeError):
        venue.load_markets()
    assert fake_exchange.count("POST", "/fapi/v1/order") == 0


def test_post_only_and_reduce_only_reach_the_exchange(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, "binanceusdm")
    venue.create_order(OrderRequest("flags-1", PERP, Side.SELL, OrderType.MARKET, 0.01))
    venue.create_order(OrderRequest("flags-2", PERP, Side.BUY, OrderType.LIMIT, 0.01, 50_000.0, post_only=True))
    venue.create_order(OrderRequest("flags-3", PERP, Side.BUY, OrderType.MARKET, 0.01, reduce_only=True))
    sent = {r.params["newClientOrderId"]: r.params for r in fake_exchange.requests if r.path == "/fapi/v1/order"}
    assert sent["flags-2"]["timeInForce"] == "GTX"
    assert sent["flags-3"]["reduceOnly"] == "true"


def test_a_wrong_key_is_an_authentication_error_without_retry(fake_exchange: FakeExchange) -> None:
    venue: CcxtVenue = make_ccxt_venue(fake_exchange)
    fake_exchange.api_key = "another-key"
    with pytest.raises(AuthenticationError):
        venue.fetch_balances()
    assert fake_exchange.count("GET", "/api/v3/account") == 1


def test_a_skewed_local_clock_is_corrected_from_the_exchange_time(fake_exchange: FakeExchange) -> None:
    fake_exchange.engine.clock = lambda: time.time() + 120.0  # the exchange runs two minutes ahead of us
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()  # reads the exchange's time and signs with it
    assert venue.fetch_balances()["USDT"] == pytest.approx(100_000.0)
    state = venue.create_order(limit_buy("skew-1"))
    assert state.status is OrderStatus.OPEN


def test_without_time_correction_the_exchange_refuses_skewed_requests(fake_exchange: FakeExchange) -> None:
    fake_exchange.engine.clock = lambda: time.time() + 120.0
    venue = make_ccxt_venue(fake_exchange)
    venue._exchange.options["adjustForTimeDifference"] = False
    with pytest.raises(VenueUnavailableError, match="InvalidNonce"):
        venue.fetch_balances()


def test_a_418_ip_ban_is_honoured_until_its_retry_after_and_nothing_is_sent_meanwhile(
    fake_exchange: FakeExchange,
) -> None:
    # Binance's LIMITS: an IP that goes on after 429s is banned, 418 with Retry-After = seconds until the ban is
    # over (2 minutes to 3 days). The read is not retried; every request waits out the ban without leaving.
    now = [1_000.0]
    venue = make_ccxt_venue(fake_exchange, limiter=RateLimiter(min_interval=0.0, clock=lambda: now[0]))
    fake_exchange.add_fault(Fault("ip_ban", "GET", "/api/v3/account", retry_after=0.3))
    with pytest.raises(IpBannedError) as raised:
        venue.fetch_balances()
    assert raised.value.retry_after == pytest.approx(1.0)  # the fake's Retry-After: 0.3 s rounded up
    assert fake_exchange.count("GET", "/api/v3/account") == 1
    sent = len(fake_exchange.requests)
    with pytest.raises(IpBannedError):
        venue.fetch_balances()
    assert len(fake_exchange.requests) == sent and fake_exchange.banned_requests == 0
    time.sleep(0.35)
    now[0] += 1.0
    assert venue.fetch_balances()["USDT"] == pytest.approx(100_000.0)
