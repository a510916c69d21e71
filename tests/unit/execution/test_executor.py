"""Execution against the paper venue: journal before send, lookups after doubt, chase, fallback, TWAP, order."""

from __future__ import annotations

from typing import Any

import pytest

from trimtab.domain import InstrumentKind, MarketSnapshot
from trimtab.domain.plan import Side
from trimtab.storage.journal import Journal
from trimtab.venues.paper import FixedFeed
from trimtab.venues.ports import OrderRequest, OrderType

PERP = "BTC/USDT:USDT"


def test_a_market_order_is_journaled_filled_and_its_fill_recorded_once(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.FaultyVenue(kit.paper(clock))
    venue.duplicate_fills = True
    report = kit.executor(venue, journal, clock, kit.fast_config(algo="market")).execute(
        "plan1", [kit.trade("BTC/USDT", Side.SELL, 0.2, 50_000.0)], equity=150_000.0
    )
    assert report.converged and report.refusals == []
    [order] = report.orders
    assert order.client_order_id == "tt-plan1-0-0"
    assert order.status == "filled" and order.filled == pytest.approx(0.2)
    assert order.average_price == pytest.approx(50_000.0 * (1 - 0.0005))
    assert len(journal.fills(order.client_order_id)) == 1
    assert venue.fetch_balances()["BTC"] == pytest.approx(0.8)


def test_a_create_that_times_out_after_acceptance_is_looked_up_not_resent(
    clock: Any, journal: Journal, kit: Any
) -> None:
    venue = kit.FaultyVenue(kit.paper(clock))
    venue.ambiguous_after_placing = 1
    venue.invisible_lookups = 2  # the venue does not show the order at first
    report = kit.executor(venue, journal, clock, kit.fast_config(algo="market")).execute(
        "plan1", [kit.trade("BTC/USDT", Side.SELL, 0.3, 50_000.0)], equity=150_000.0
    )
    assert venue.creates == ["tt-plan1-0-0"]
    assert len(venue.inner.orders) == 1
    [order] = report.orders
    assert order.status == "filled" and order.filled == pytest.approx(0.3)
    assert report.converged


def test_an_order_that_never_arrived_is_declared_lost_only_after_misses_over_time(
    clock: Any, journal: Journal, kit: Any
) -> None:
    venue = kit.FaultyVenue(kit.paper(clock))
    venue.ambiguous_without_placing = 1
    start = clock.now
    report = kit.executor(venue, journal, clock, kit.fast_config(algo="market", lost_after_s=3.0)).execute(
        "plan1", [kit.trade("BTC/USDT", Side.SELL, 0.3, 50_000.0)], equity=150_000.0
    )
    [order] = report.orders
    assert order.status == "lost"
    assert order.misses >= 3
    assert (order.updated_at - start).total_seconds() >= 3.0
    assert venue.creates == ["tt-plan1-0-0"]  # never resent
    assert venue.inner.orders == {}


def test_an_unresolved_order_stops_the_plan(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.FaultyVenue(kit.paper(clock))
    venue.ambiguous_after_placing = 1
    venue.invisible_lookups = 1000
    report = kit.executor(venue, journal, clock, kit.fast_config(algo="market", lost_after_s=1e6)).execute(
        "plan1",
        [kit.trade("BTC/USDT", Side.SELL, 0.3, 50_000.0), kit.trade("ETH/USDT", Side.BUY, 2.0, 2_500.0)],
        equity=150_000.0,
    )
    assert not report.converged
    assert report.unresolved == ["tt-plan1-0-0"]
    assert venue.creates == ["tt-plan1-0-0"]  # the second leg was not started


class _FallingFeed(FixedFeed):
    """BTC falls 20 USDT a second from 50 000: each resting bid is traded through a second or two later."""

    def __init__(self, clock: Any, kit: Any) -> None:
        super().__init__(kit.market())
        self._clock, self._kit, self._start = clock, kit, clock.now

    @property  # type: ignore[override]
    def market(self) -> MarketSnapshot:
        return self._kit.market(50_000.0 - 20.0 * (self._clock.now - self._start).total_seconds())

    @market.setter
    def market(self, value: MarketSnapshot) -> None:
        pass


def test_the_limit_chase_reprices_then_sends_only_the_remainder_at_market(
    clock: Any, journal: Journal, kit: Any
) -> None:
    # 1 000 USDT per matching step, and a market that trades through the bids as it falls: limits fill slowly
    venue = kit.paper(clock, touch_depth=1_000.0, feed=_FallingFeed(clock, kit))
    config = kit.fast_config(algo="limit", chase_count=2, chase_interval_s=2.0, twap_threshold=1e9)
    report = kit.executor(venue, journal, clock, config).execute(
        "plan1", [kit.trade("BTC/USDT", Side.BUY, 0.5, 50_000.0)], equity=150_000.0
    )
    types = [o.order_type for o in report.orders]
    assert types == ["limit", "limit", "limit", "market"]
    limits_filled = sum(o.filled for o in report.orders[:3])
    market_order = report.orders[3]
    assert 0 < limits_filled < 0.5
    assert market_order.amount == pytest.approx(0.5 - limits_filled, abs=1e-5)
    assert sum(o.filled for o in report.orders) == pytest.approx(0.5, abs=1e-5)
    assert all(o.status in ("canceled", "filled") for o in report.orders)
    assert venue.fetch_balances()["BTC"] == pytest.approx(1.5, abs=1e-5)


def test_a_large_leg_is_sliced_over_the_twap_window(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.paper(clock)
    config = kit.fast_config(algo="market", twap_threshold=20_000.0, twap_slice_notional=10_000.0, twap_window_s=60.0)
    start = clock.now
    report = kit.executor(venue, journal, clock, config).execute(
        "plan1", [kit.trade("BTC/USDT", Side.BUY, 1.0, 50_000.0)], equity=150_000.0
    )
    assert len(report.orders) == 5
    assert [o.amount for o in report.orders] == pytest.approx([0.2] * 5)
    assert (clock.now - start).total_seconds() >= 48.0  # four pauses of 12 s between five slices


def test_sells_and_hedge_reductions_go_first_and_reductions_are_reduce_only(
    clock: Any, journal: Journal, kit: Any
) -> None:
    venue = kit.paper(clock)
    venue.create_order(OrderRequest("manual-1", PERP, Side.SELL, OrderType.MARKET, 0.4))
    trades = [
        kit.trade("ETH/USDT", Side.BUY, 4.0, 2_500.0),
        kit.trade(PERP, Side.BUY, 0.6, 50_000.0, InstrumentKind.PERP),  # short 0.4 -> long 0.2: a flip
        kit.trade("BTC/USDT", Side.SELL, 0.1, 50_000.0),
    ]
    report = kit.executor(venue, journal, clock, kit.fast_config(algo="market")).execute(
        "plan1", trades, equity=150_000.0
    )
    assert [(o.symbol, o.side, o.reduce_only) for o in report.orders] == [
        (PERP, "buy", True),
        ("BTC/USDT", "sell", False),
        (PERP, "buy", False),
        ("ETH/USDT", "buy", False),
    ]
    assert report.orders[0].amount == pytest.approx(0.4)
    [position] = venue.fetch_positions()
    assert position.amount == pytest.approx(0.2)
    assert [o.client_order_id for o in venue.fetch_open_orders()] == []


def test_a_halt_pulled_mid_plan_stops_the_next_order(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.paper(clock)
    calls = {"n": 0}

    def halted() -> tuple[bool, str]:
        calls["n"] += 1
        return (calls["n"] > 1, "kill switch")

    report = kit.executor(venue, journal, clock, kit.fast_config(algo="market"), halted).execute(
        "plan1",
        [kit.trade("BTC/USDT", Side.SELL, 0.1, 50_000.0), kit.trade("ETH/USDT", Side.BUY, 1.0, 2_500.0)],
        equity=150_000.0,
    )
    assert [o.symbol for o in report.orders] == ["BTC/USDT"]
    assert "halted" in report.refusals[0]
    assert journal.decisions(["guard"])[0]["payload"]["rule"] == "halted"


def test_a_definitive_rejection_is_recorded_once_and_not_retried(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.FaultyVenue(kit.paper(clock))
    report = kit.executor(venue, journal, clock, kit.fast_config(algo="market", twap_threshold=1e12)).execute(
        "plan1", [kit.trade("BTC/USDT", Side.BUY, 5.0, 50_000.0)], equity=1e9
    )
    assert venue.creates == ["tt-plan1-0-0"]
    [order] = report.orders
    assert order.status == "rejected" and "insufficient funds" in order.last_error
    assert report.converged and len(report.refusals) == 1


def test_a_price_that_moved_beyond_the_collar_since_the_plan_is_not_traded(
    clock: Any, journal: Journal, kit: Any
) -> None:
    venue = kit.paper(clock)  # BTC at 50 000 now
    report = kit.executor(venue, journal, clock, kit.fast_config(algo="market", max_slippage=0.02)).execute(
        "plan1", [kit.trade("BTC/USDT", Side.SELL, 0.1, 53_000.0)], equity=150_000.0
    )
    assert report.orders == []
    assert "collar" in report.refusals[0]
    assert journal.decisions(["guard"])[0]["payload"]["rule"] == "collar"


def test_a_runaway_plan_stops_at_the_per_cycle_order_cap(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.paper(clock)
    config = kit.fast_config(algo="market", max_cycle_orders=2)
    trades = [
        kit.trade("BTC/USDT", Side.SELL, 0.01, 50_000.0),
        kit.trade("ETH/USDT", Side.BUY, 0.1, 2_500.0),
        kit.trade("ETH/USDT", Side.BUY, 0.1, 2_500.0),
    ]
    report = kit.executor(venue, journal, clock, config).execute("plan1", trades, equity=150_000.0)
    assert len(report.orders) == 2
    assert "cap" in report.refusals[0] and len(venue.trades) == 2


def test_a_sell_larger_than_the_holding_sells_what_is_held(clock: Any, journal: Journal, kit: Any) -> None:
    venue = kit.paper(clock)  # 1 BTC held
    report = kit.executor(venue, journal, clock, kit.fast_config(algo="market", twap_threshold=1e12)).execute(
        "plan1", [kit.trade("BTC/USDT", Side.SELL, 1.0000004, 50_000.0)], equity=150_000.0
    )
    [order] = report.orders
    assert order.status == "filled" and order.amount == pytest.approx(1.0)
    assert "BTC" not in venue.fetch_balances()
