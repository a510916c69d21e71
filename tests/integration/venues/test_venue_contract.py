"""The contract every venue implements: one suite, run against each registered venue.

A venue registers a factory in :mod:`trimtab.testing.venue_contract`; the ccxt venue runs against the fake
Binance on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trimtab.domain import InstrumentKind, Side
from trimtab.errors import OrderRejectedError
from trimtab.testing.venue_contract import VenueHarness, venue_factories
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType, Venue

FACTORIES = venue_factories()


@pytest.fixture(params=sorted(FACTORIES), ids=str)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VenueHarness]:
    with FACTORIES[request.param](tmp_path) as built:
        yield built


@pytest.fixture
def venue(harness: VenueHarness) -> Venue:
    return harness.venue


def _buy(symbol: str, client_id: str, amount: float, price: float | None = None, **flags: bool) -> OrderRequest:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(client_id, symbol, Side.BUY, kind, amount, price, **flags)


def _sell(symbol: str, client_id: str, amount: float, price: float | None = None, **flags: bool) -> OrderRequest:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(client_id, symbol, Side.SELL, kind, amount, price, **flags)


def test_every_venue_satisfies_the_port_protocol(venue: Venue) -> None:
    assert isinstance(venue, Venue)
    assert venue.name


def test_markets_carry_instrument_and_lot_rules(harness: VenueHarness) -> None:
    markets = harness.venue.load_markets()
    spot = markets[harness.spot_symbol]
    assert spot.instrument.kind is InstrumentKind.SPOT
    assert spot.instrument.base == "BTC" and spot.instrument.quote == "USDT"
    assert spot.rules.amount_step > 0
    assert spot.rules.min_notional > 0
    if harness.perp_symbol:
        perp = markets[harness.perp_symbol]
        assert perp.instrument.kind is InstrumentKind.PERP
        assert perp.rules.contract_size > 0


def test_balances_report_the_funded_account(venue: Venue) -> None:
    balances = venue.fetch_balances()
    assert balances["USDT"] >= 10_000
    assert balances["BTC"] >= 0.5


def test_tickers_have_an_ordered_book_and_a_utc_timestamp(harness: VenueHarness) -> None:
    tickers = harness.venue.fetch_tickers([harness.spot_symbol])
    ticker = tickers[harness.spot_symbol]
    assert 0 < ticker.bid <= ticker.ask
    assert ticker.bid <= ticker.last <= ticker.ask
    assert abs(ticker.last - 60_000) / 60_000 < 0.05
    assert ticker.timestamp.tzinfo is not None


def test_a_market_buy_fills_at_the_ask_and_moves_the_balances(harness: VenueHarness) -> None:
    venue, symbol = harness.venue, harness.spot_symbol
    before = venue.fetch_balances()
    ask = venue.fetch_tickers([symbol])[symbol].ask
    state = venue.create_order(_buy(symbol, "contract-mkt-1", 0.01))
    assert state.client_order_id == "contract-mkt-1"
    assert state.status is OrderStatus.FILLED
    assert state.filled == pytest.approx(0.01)
    assert state.average_price == pytest.approx(ask, rel=0.002)
    assert state.fee >= 0
    after = venue.fetch_balances()
    # a commission charged in the asset bought (Binance spot, without BNB) arrives short by that fee
    base_fee = state.fee if state.fee_currency == "BTC" else 0.0
    assert after["BTC"] - before["BTC"] == pytest.approx(0.01 - base_fee, rel=1e-6)
    spent = before["USDT"] - after["USDT"]
    assert spent == pytest.approx(0.01 * state.average_price + (state.fee if state.fee_currency == "USDT" else 0.0))


def test_a_resting_limit_order_is_listed_found_and_canceled(harness: VenueHarness) -> None:
    venue, symbol = harness.venue, harness.spot_symbol
    placed = venue.create_order(_buy(symbol, "contract-rest-1", 0.01, 50_000.0))
    assert placed.status in (OrderStatus.NEW, OrderStatus.OPEN)
    assert placed.filled == 0
    assert [o.client_order_id for o in venue.fetch_open_orders(symbol)] == ["contract-rest-1"]
    assert "contract-rest-1" in {o.client_order_id for o in venue.fetch_open_orders()}
    found = venue.fetch_order("contract-rest-1", symbol)
    assert found is not None and found.price == pytest.approx(50_000.0) and found.amount == pytest.approx(0.01)
    canceled = venue.cancel_order("contract-rest-1", symbol)
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.remaining == 0
    assert venue.fetch_open_orders(symbol) == []


def test_an_unknown_client_id_is_not_found(harness: VenueHarness) -> None:
    assert harness.venue.fetch_order("contract-never-sent", harness.spot_symbol) is None


def test_a_filled_limit_order_reports_its_fill_once(harness: VenueHarness) -> None:
    venue, symbol = harness.venue, harness.spot_symbol
    start = datetime.now(UTC) - timedelta(minutes=1)
    venue.create_order(_buy(symbol, "contract-fill-1", 0.02, 59_000.0))
    harness.fill_resting(symbol, "contract-fill-1", None)
    state = venue.fetch_order("contract-fill-1", symbol)
    assert state is not None and state.status is OrderStatus.FILLED
    assert state.filled == pytest.approx(0.02)
    assert state.average_price == pytest.approx(59_000.0)
    fills = [f for f in venue.fetch_fills(symbol, since=start) if f.exchange_order_id == state.exchange_order_id]
    assert sum(f.amount for f in fills) == pytest.approx(0.02)
    assert len({f.trade_id for f in fills}) == len(fills)
    assert all(f.client_order_id == "contract-fill-1" for f in fills)


def test_partial_fill_then_cancel_keeps_the_filled_part(harness: VenueHarness) -> None:
    venue, symbol = harness.venue, harness.spot_symbol
    venue.create_order(_buy(symbol, "contract-part-1", 0.05, 58_000.0))
    harness.fill_resting(symbol, "contract-part-1", 0.02)
    partial = venue.fetch_order("contract-part-1", symbol)
    assert partial is not None and partial.status is OrderStatus.PARTIALLY_FILLED
    assert partial.filled == pytest.approx(0.02)
    canceled = venue.cancel_order("contract-part-1", symbol)
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.filled == pytest.approx(0.02)


def test_an_amount_that_rounds_to_zero_is_refused(harness: VenueHarness) -> None:
    with pytest.raises(OrderRejectedError):
        harness.venue.create_order(_buy(harness.spot_symbol, "contract-dust-1", 1e-9))


def test_an_order_below_the_minimum_notional_is_refused(harness: VenueHarness) -> None:
    with pytest.raises(OrderRejectedError):
        harness.venue.create_order(_buy(harness.spot_symbol, "contract-small-1", 0.00002))  # about 1.2 USDT


def test_an_order_beyond_the_balance_is_refused(harness: VenueHarness) -> None:
    with pytest.raises(OrderRejectedError):
        harness.venue.create_order(_sell(harness.spot_symbol, "contract-big-1", 50.0))


def test_a_post_only_order_that_would_take_is_refused(harness: VenueHarness) -> None:
    with pytest.raises(OrderRejectedError):
        harness.venue.create_order(_buy(harness.spot_symbol, "contract-po-1", 0.01, 65_000.0, post_only=True))
    assert harness.venue.fetch_open_orders(harness.spot_symbol) == []


def test_a_client_id_already_open_is_refused(harness: VenueHarness) -> None:
    venue, symbol = harness.venue, harness.spot_symbol
    venue.create_order(_buy(symbol, "contract-dup-1", 0.01, 50_000.0))
    with pytest.raises(OrderRejectedError):
        venue.create_order(_buy(symbol, "contract-dup-1", 0.01, 50_000.0))
    assert len(venue.fetch_open_orders(symbol)) == 1


def test_a_resting_order_fills_when_the_price_crosses_it(harness: VenueHarness) -> None:
    venue, symbol = harness.venue, harness.spot_symbol
    venue.create_order(_sell(symbol, "contract-cross-1", 0.01, 61_000.0))
    harness.set_price(symbol, 61_500.0)
    state = venue.fetch_order("contract-cross-1", symbol)
    assert state is not None and state.status is OrderStatus.FILLED
    assert state.average_price == pytest.approx(61_000.0)


def test_a_perpetual_short_is_opened_and_closed_reduce_only(harness: VenueHarness) -> None:
    if harness.perp_symbol is None:
        pytest.skip("this venue has no perpetuals")
    venue, perp = harness.venue, harness.perp_symbol
    venue.set_leverage(perp, 3)
    venue.set_leverage(perp, 3)  # no change: still a success
    opened = venue.create_order(_sell(perp, "contract-perp-1", 0.1))
    assert opened.status is OrderStatus.FILLED
    positions = {p.symbol: p for p in venue.fetch_positions()}
    assert positions[perp].amount == pytest.approx(-0.1)
    assert positions[perp].entry_price == pytest.approx(opened.average_price or 0.0)
    with pytest.raises(OrderRejectedError):  # reduce-only may not flip the position
        venue.create_order(_buy(perp, "contract-perp-2", 0.2, reduce_only=True))
    closed = venue.create_order(_buy(perp, "contract-perp-3", 0.1, reduce_only=True))
    assert closed.status is OrderStatus.FILLED
    assert perp not in {p.symbol for p in venue.fetch_positions()}


def test_perpetual_funding_has_a_rate_and_an_interval(harness: VenueHarness) -> None:
    if harness.perp_symbol is None:
        pytest.skip("this venue has no perpetuals")
    rates = harness.venue.fetch_funding_rates([harness.perp_symbol])
    rate, hours = rates[harness.perp_symbol]
    assert -0.01 < rate < 0.01
    assert hours > 0
    ticker = harness.venue.fetch_tickers([harness.perp_symbol])[harness.perp_symbol]
    assert ticker.mark is not None and ticker.mark > 0
