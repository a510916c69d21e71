"""The paper venue settles dated futures and options at expiry, keeps the record, and delists them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trimtab.domain import DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding
from trimtab.domain.instruments import parse_symbol
from trimtab.domain.plan import Side
from trimtab.domain.portfolio import DerivativePosition
from trimtab.errors import OrderRejectedError
from trimtab.venues.paper import FixedFeed, PaperVenue
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType
from trimtab.venues.simulation import RealityModels, Settlement

FUTURE = "BTC/USDT:USDT-261225"
CALL = "BTC/USDT:USDT-261225-70000-C"
EXPIRY = datetime(2026, 12, 25, 8, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _venue(clock: Clock, seen: list[tuple[Settlement, datetime]]) -> PaperVenue:
    market = MarketSnapshot(
        timestamp=EXPIRY - timedelta(hours=1),
        prices={"BTC": 72_500.0, "USDT": 1.0},
        derivatives={FUTURE: DerivativeQuote(mark=72_500.0), CALL: DerivativeQuote(mark=2_600.0, iv=0.5)},
    )
    portfolio = Portfolio(
        "USDT",
        (SpotHolding("USDT", 50_000.0),),
        (
            DerivativePosition(parse_symbol(FUTURE), -0.4, 65_000.0, 2.0),
            DerivativePosition(parse_symbol(CALL), 3.0, 1_200.0),
        ),
    )
    return PaperVenue(
        FixedFeed(market),
        base_currency="USDT",
        models=RealityModels(),
        initial=portfolio,
        clock=clock,
        on_settlement=lambda s, now: seen.append((s, now)),
    )


def test_before_expiry_the_future_is_listed_and_held() -> None:
    seen: list[tuple[Settlement, datetime]] = []
    venue = _venue(Clock(EXPIRY - timedelta(minutes=1)), seen)
    assert FUTURE in venue.load_markets()
    assert {p.symbol for p in venue.fetch_positions()} >= {FUTURE}
    assert seen == [] and venue.account.cash == 50_000.0


def test_at_expiry_both_settle_at_the_underlyings_price_and_are_recorded_once() -> None:
    seen: list[tuple[Settlement, datetime]] = []
    clock = Clock(EXPIRY - timedelta(minutes=1))
    venue = _venue(clock, seen)
    resting = venue.create_order(OrderRequest("tt-r", FUTURE, Side.BUY, OrderType.LIMIT, 0.1, 60_000.0))
    assert resting.status is OrderStatus.OPEN
    clock.now = EXPIRY + timedelta(minutes=5)
    assert venue.fetch_positions() == []
    # short 0.4 from 65,000 at 72,500: -0.4 x 7,500 = -3,000; 3 calls struck 70,000: +3 x 2,500 = 7,500
    assert venue.account.cash == pytest.approx(50_000.0 - 3_000.0 + 7_500.0)
    record = {s["symbol"]: s for s in venue.document()["settlements"]}
    assert record[FUTURE]["cash"] == pytest.approx(-3_000.0) and record[CALL]["cash"] == pytest.approx(7_500.0)
    assert record[FUTURE]["underlying_price"] == 72_500.0
    assert record[FUTURE]["expired_at"] == "2026-12-25T08:00:00Z"
    assert sorted(s.symbol for s, _ in seen) == [FUTURE, CALL]
    assert all(now == EXPIRY + timedelta(minutes=5) for _, now in seen)
    venue.fetch_balances()
    assert len(seen) == 2, "a settlement is recorded once"
    assert venue.fetch_order("tt-r", FUTURE).status is OrderStatus.EXPIRED  # type: ignore[union-attr]
    assert FUTURE not in venue.load_markets()
    with pytest.raises(OrderRejectedError, match="not a market"):
        venue.create_order(OrderRequest("tt-x", FUTURE, Side.SELL, OrderType.MARKET, 0.1))


def test_an_option_is_listed_bought_for_its_premium_and_reported_with_its_implied_volatility() -> None:
    seen: list[tuple[Settlement, datetime]] = []
    venue = _venue(Clock(EXPIRY - timedelta(days=2)), seen)
    assert CALL in venue.load_markets()
    state = venue.create_order(OrderRequest("tt-o", CALL, Side.BUY, OrderType.MARKET, 1.0))
    assert state.status is OrderStatus.FILLED and state.average_price == pytest.approx(2_600.0)
    # the premium, plus the default taker fee of 0.1 % on it (no slippage by default)
    assert venue.account.cash == pytest.approx(50_000.0 - 2_600.0 - 2.6)
    (call,) = [p for p in venue.fetch_positions() if p.symbol == CALL]
    assert call.amount == pytest.approx(4.0) and call.liquidation_price is None and call.mark_price == 2_600.0
    assert venue.fetch_tickers([CALL])[CALL].iv == 0.5
