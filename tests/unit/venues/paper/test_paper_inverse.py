"""Inverse contracts on the paper venue: counted in contracts, margined, paid and settled in the coin.

By hand, BTC/USD:BTC with 100 USD contracts, a 0.05 % taker fee, no slippage, in a coin-margined account
holding 1 BTC: selling 250 contracts at 50,000 (25,000 USD of face) pays 25,000 x 0.0005 / 50,000 = 0.00025
BTC; at 40,000 the short has gained 250 x 100 x (1/40,000 - 1/50,000) = 0.125 BTC; buying them back pays
25,000 x 0.0005 / 40,000 = 0.0003125 BTC. One 8-hour funding at 0.01 % pays the short
0.0001 x 250 x 100 / 50,000 = 0.00005 BTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trimtab.domain import DerivativeQuote, MarketRules, MarketSnapshot, Portfolio, SpotHolding
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.plan import Side
from trimtab.venues.paper import FixedFeed, PaperVenue
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType
from trimtab.venues.simulation import FeeModel, RealityModels

INVERSE = "BTC/USD:BTC"
T0 = datetime(2026, 11, 21, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _market(btc: float, funding: float = 0.0) -> MarketSnapshot:
    return MarketSnapshot(
        T0,
        {"BTC": btc, "USDT": 1.0},
        {INVERSE: DerivativeQuote(mark=btc, funding_rate=funding)},
        markets={INVERSE: MarketRules(amount_step=1.0, contract_size=100.0)},
    )


def _venue(feed: FixedFeed, clock: Clock) -> PaperVenue:
    account = Account("binance-coinm", "binance", AccountKind.DERIVATIVES, MarginMode.CROSS, {"BTC": 1.0})
    portfolio = Portfolio("USDT", (SpotHolding("BTC", 1.0, "binance-coinm"),), (), (account,))
    return PaperVenue(
        feed,
        base_currency="USDT",
        models=RealityModels(fees=FeeModel(taker=0.0005, maker=0.0002)),
        initial=portfolio,
        clock=clock,
        name="binance-coinm",
        account="binance-coinm",
    )


def test_an_inverse_short_gains_coins_as_the_price_falls() -> None:
    feed, clock = FixedFeed(_market(50_000.0)), Clock()
    venue = _venue(feed, clock)
    assert INVERSE in venue.load_markets()
    sold = venue.create_order(OrderRequest("tt-i1", INVERSE, Side.SELL, OrderType.MARKET, 250.0))
    assert sold.status is OrderStatus.FILLED and sold.filled == 250.0
    assert venue.fetch_balances() == {"BTC": pytest.approx(1.0 - 0.00025)}
    (position,) = venue.fetch_positions()
    assert position.amount == -250.0 and position.entry_price == 50_000.0
    feed.market = _market(40_000.0)
    assert venue.equity() == pytest.approx((1.0 - 0.00025) * 40_000.0 + 0.125 * 40_000.0)
    venue.create_order(OrderRequest("tt-i2", INVERSE, Side.BUY, OrderType.MARKET, 250.0, reduce_only=True))
    assert venue.fetch_positions() == []
    assert venue.fetch_balances() == {"BTC": pytest.approx(1.0 - 0.00025 + 0.125 - 0.0003125)}


def test_inverse_funding_is_paid_in_the_coin() -> None:
    feed, clock = FixedFeed(_market(50_000.0, funding=0.0001)), Clock()
    venue = _venue(feed, clock)
    venue.create_order(OrderRequest("tt-i3", INVERSE, Side.SELL, OrderType.MARKET, 250.0))
    clock.now = T0 + timedelta(hours=7, minutes=30)  # the 08:00 settlement passes
    assert venue.fetch_balances() == {"BTC": pytest.approx(1.0 - 0.00025 + 0.00005)}
