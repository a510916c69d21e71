"""The paper venue: market and limit orders, partial fills, fees, reduce-only, funding, liquidation, persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trimtab.domain import DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.plan import Side
from trimtab.errors import OrderRejectedError
from trimtab.policy.config import CostsConfig
from trimtab.storage import open_store
from trimtab.storage.state import StateStore
from trimtab.venues.paper import FixedFeed, PaperVenue
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType
from trimtab.venues.simulation import RealityModels

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
PERP = "BTC/USDT:USDT"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _market(btc: float = 50_000.0, funding: float = 0.0001) -> MarketSnapshot:
    return MarketSnapshot(
        timestamp=T0,
        prices={"BTC": btc, "ETH": 3000.0, "USDT": 1.0},
        derivatives={PERP: DerivativeQuote(mark=btc, funding_rate=funding)},
    )


def _venue(
    feed: FixedFeed | None = None, clock: Clock | None = None, initial: Portfolio | None = None, **kwargs: object
) -> PaperVenue:
    models = RealityModels.from_costs(CostsConfig(taker_fee=0.001, maker_fee=0.0002, slippage_bps=10.0))
    portfolio = initial or Portfolio("USDT", (SpotHolding("USDT", 100_000.0), SpotHolding("BTC", 1.0)))
    return PaperVenue(
        feed or FixedFeed(_market()),
        base_currency="USDT",
        models=models,
        initial=portfolio,
        clock=clock or Clock(),
        **kwargs,  # type: ignore[arg-type]
    )


def _order(cid: str, symbol: str, side: Side, amount: float, price: float | None = None, **kw: bool) -> OrderRequest:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(cid, symbol, side, kind, amount, price, **kw)


def test_a_market_buy_fills_at_the_ask_and_pays_the_taker_fee() -> None:
    venue = _venue()
    state = venue.create_order(_order("tt-a", "BTC/USDT", Side.BUY, 0.5))
    ask = 50_000.0 * 1.001
    assert state.status is OrderStatus.FILLED
    assert state.average_price == pytest.approx(ask)
    assert state.fee == pytest.approx(0.5 * ask * 0.001)
    balances = venue.fetch_balances()
    assert balances["BTC"] == pytest.approx(1.5)
    assert balances["USDT"] == pytest.approx(100_000.0 - 0.5 * ask * 1.001)
    fills = venue.fetch_fills("BTC/USDT")
    assert [f.client_order_id for f in fills] == ["tt-a"]
    assert fills[0].amount == pytest.approx(0.5)


def test_a_resting_limit_order_fills_only_once_the_market_trades_through_it_in_parts_as_maker() -> None:
    feed, clock = FixedFeed(_market()), Clock()
    venue = _venue(feed, clock, touch_depth=10_000.0)
    bid = 50_000.0 * 0.999
    state = venue.create_order(_order("tt-b", "BTC/USDT", Side.BUY, 0.5, price=bid))
    assert state.status is OrderStatus.OPEN and state.filled == 0.0
    clock.now += timedelta(hours=1)
    standing = venue.fetch_order("tt-b", "BTC/USDT")
    assert standing is not None and standing.filled == 0.0, "a market standing at 50,000 never sells at the bid"
    feed.market = _market(btc=49_900.0)  # the price trades below the bid
    clock.now += timedelta(seconds=1)
    first = venue.fetch_order("tt-b", "BTC/USDT")
    assert first is not None and first.status is OrderStatus.PARTIALLY_FILLED
    assert first.filled == pytest.approx(10_000.0 / bid)
    assert first.average_price == pytest.approx(bid), "at its limit, not at the lower price that traded"
    assert first.fee == pytest.approx(10_000.0 * 0.0002)
    again = venue.fetch_order("tt-b", "BTC/USDT")
    assert again is not None and again.filled == first.filled, "one match per moment"
    for _ in range(5):
        clock.now += timedelta(seconds=1)
        last = venue.fetch_order("tt-b", "BTC/USDT")
    assert last is not None and last.status is OrderStatus.FILLED and last.filled == pytest.approx(0.5)
    assert len({f.trade_id for f in venue.fetch_fills("BTC/USDT")}) == 3
    assert all(f.price == pytest.approx(bid) for f in venue.fetch_fills("BTC/USDT"))


def test_a_sell_resting_at_the_ask_fills_when_the_price_trades_above_it_never_at_a_standing_market() -> None:
    feed, clock = FixedFeed(_market()), Clock()
    venue = _venue(feed, clock)
    ask = 50_000.0 * 1.001
    venue.create_order(_order("tt-s", "BTC/USDT", Side.SELL, 0.2, price=ask))
    clock.now += timedelta(days=1)
    assert venue.fetch_order("tt-s", "BTC/USDT").filled == 0.0  # type: ignore[union-attr]
    feed.market = _market(btc=ask)  # trading at the limit is not through it
    clock.now += timedelta(seconds=1)
    assert venue.fetch_order("tt-s", "BTC/USDT").filled == 0.0  # type: ignore[union-attr]
    feed.market = _market(btc=50_100.0)
    clock.now += timedelta(seconds=1)
    filled = venue.fetch_order("tt-s", "BTC/USDT")
    assert filled is not None and filled.status is OrderStatus.FILLED and filled.average_price == pytest.approx(ask)


def test_a_limit_below_the_bid_rests_and_cancels_without_fills() -> None:
    venue = _venue()
    venue.create_order(_order("tt-c", "BTC/USDT", Side.BUY, 0.1, price=40_000.0))
    assert [o.client_order_id for o in venue.fetch_open_orders()] == ["tt-c"]
    canceled = venue.cancel_order("tt-c", "BTC/USDT")
    assert canceled.status is OrderStatus.CANCELED and canceled.filled == 0.0
    assert venue.fetch_open_orders() == []
    assert venue.fetch_balances()["USDT"] == pytest.approx(100_000.0)


def test_insufficient_funds_and_duplicates_are_rejected() -> None:
    venue = _venue()
    with pytest.raises(OrderRejectedError, match="insufficient funds"):
        venue.create_order(_order("tt-d", "BTC/USDT", Side.SELL, 1.5))
    with pytest.raises(OrderRejectedError, match="insufficient funds"):
        venue.create_order(_order("tt-e", "BTC/USDT", Side.BUY, 3.0))
    venue.create_order(_order("tt-f", "BTC/USDT", Side.SELL, 0.1))
    with pytest.raises(OrderRejectedError, match="duplicate"):
        venue.create_order(_order("tt-f", "BTC/USDT", Side.SELL, 0.1))
    assert venue.fetch_order("tt-d", "BTC/USDT") is None


def test_reduce_only_must_shrink_the_position_and_never_past_it() -> None:
    venue = _venue()
    venue.set_leverage(PERP, 2.0)
    venue.create_order(_order("tt-g", PERP, Side.SELL, 0.4))
    [position] = venue.fetch_positions()
    assert position.amount == pytest.approx(-0.4) and position.leverage == 2.0
    # No [[account]]: the contract's unified cross account, margined by all its USDT. By hand: sold at the bid
    # 49 950 paying 0.1 % (19.98), so 99 980.02 of cash, and liquidated where
    # 99 980.02 - 0.4 x (P - 49 950) = 0.005 x 0.4 x P: P = 119 960.02 / 0.402 = 298 408.01.
    assert position.entry_price == pytest.approx(49_950.0)
    assert position.liquidation_price == pytest.approx(119_960.02 / 0.402, rel=1e-9)
    with pytest.raises(OrderRejectedError, match="reduce-only"):
        venue.create_order(_order("tt-h", PERP, Side.SELL, 0.1, reduce_only=True))
    with pytest.raises(OrderRejectedError, match="exceeds the position"):
        venue.create_order(_order("tt-i", PERP, Side.BUY, 1.0, reduce_only=True))
    state = venue.create_order(_order("tt-i2", PERP, Side.BUY, 0.4, reduce_only=True))
    assert state.amount == pytest.approx(0.4) and state.filled == pytest.approx(0.4)
    assert venue.fetch_positions() == []


def test_funding_is_paid_at_each_settlement_stamp() -> None:
    clock = Clock()
    venue = _venue(clock=clock)
    venue.create_order(_order("tt-j", PERP, Side.SELL, 1.0))
    cash = venue.fetch_balances()["USDT"]
    clock.now = T0 + timedelta(hours=17)  # stamps at 08:00 and 16:00
    after = venue.fetch_balances()["USDT"]
    # Shorts receive a positive rate: 2 x 0.0001 x 1 BTC x 50 000.
    assert after - cash == pytest.approx(2 * 0.0001 * 50_000.0)


def test_a_position_is_liquidated_when_the_mark_reaches_its_liquidation_price() -> None:
    # 10 000 USDT margin a 0.8 BTC long at 5x. By hand: bought at the ask 50 050 paying 0.1 % (40.04), so
    # 9 959.96 of cash, and liquidated where 9 959.96 + 0.8 x (P - 50 050) = 0.005 x 0.8 x P:
    # P = 30 080.04 / 0.796 = 37 788.99 (cross: the whole cash, not the 8 008 of initial margin, is its margin).
    feed = FixedFeed(_market())
    venue = _venue(feed=feed, initial=Portfolio("USDT", (SpotHolding("USDT", 10_000.0),)))
    venue.set_leverage(PERP, 5.0)
    venue.create_order(_order("tt-k", PERP, Side.BUY, 0.8))
    [position] = venue.fetch_positions()
    price = 30_080.04 / 0.796
    assert position.liquidation_price == pytest.approx(price, rel=1e-9)
    feed.market = _market(btc=37_800.0)
    assert len(venue.fetch_positions()) == 1  # above it
    feed.market = _market(btc=37_700.0)
    assert venue.fetch_positions() == []
    liquidations = [f for f in venue.fetch_fills(PERP) if f.client_order_id is None]
    assert len(liquidations) == 1 and liquidations[0].price == pytest.approx(price, rel=1e-9)
    # What the account keeps: the maintenance margin at P less the taker fee on the close.
    assert venue.fetch_balances()["USDT"] == pytest.approx(0.8 * price * (0.005 - 0.001), rel=1e-9)


def test_a_paper_account_declared_isolated_keeps_the_isolated_liquidation_price() -> None:
    # The same 2x short as above, on an account the portfolio declares isolated: its own margin
    # 0.4 x 49 950 / 2 is all it can lose, so P = 49 950 x (1 + 1/2) / (1 + 0.005) = 74 552.24.
    isolated = Account("binance-usdm", "binance", AccountKind.DERIVATIVES, MarginMode.ISOLATED, {"USDT": 1.0})
    portfolio = Portfolio("USDT", (SpotHolding("USDT", 100_000.0, "binance-usdm"),), accounts=(isolated,))
    venue = _venue(initial=portfolio, account="binance-usdm")
    venue.set_leverage(PERP, 2.0)
    venue.create_order(_order("tt-m", PERP, Side.SELL, 0.4))
    [position] = venue.fetch_positions()
    assert position.liquidation_price == pytest.approx(49_950.0 * 1.5 / 1.005, rel=1e-9)


def test_the_account_lives_in_the_state_store_and_survives_a_restart(tmp_path: Path) -> None:
    store = StateStore(open_store(f"sqlite:///{tmp_path / 'paper.db'}"))
    venue = _venue(store=store)
    venue.create_order(_order("tt-l", "ETH/USDT", Side.BUY, 2.0))
    again = PaperVenue(
        FixedFeed(_market()),
        base_currency="USDT",
        models=venue.models,
        store=store,
        initial=Portfolio("USDT", (SpotHolding("USDT", 1.0),)),
        clock=Clock(),
    )
    assert again.fetch_balances() == pytest.approx(venue.fetch_balances())
    assert again.fetch_order("tt-l", "ETH/USDT") == venue.fetch_order("tt-l", "ETH/USDT")
    assert set(again.load_markets()) == {"BTC/USDT", "ETH/USDT", PERP}
