"""ccxt-specific behaviour of the ccxt venue, against the fake Binance."""

from __future__ import annotations

import time

import pytest

from trimtab.domain import Side
from trimtab.errors import BadInputError
from trimtab.testing.fake_exchange import FakeExchange
from trimtab.testing.fixtures import make_ccxt_venue
from trimtab.venues.ports import OrderRequest, OrderType

SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"


def test_open_orders_without_a_symbol_cover_spot_and_perpetuals(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, "binance")
    venue.create_order(OrderRequest("all-1", SPOT, Side.BUY, OrderType.LIMIT, 0.01, 50_000.0))
    venue.create_order(OrderRequest("all-2", PERP, Side.BUY, OrderType.LIMIT, 0.01, 50_000.0))
    assert {o.client_order_id: o.symbol for o in venue.fetch_open_orders()} == {"all-1": SPOT, "all-2": PERP}


def test_funding_interval_comes_from_the_exchange(fake_exchange: FakeExchange) -> None:
    fake_exchange.engine.market("usdm", "ETHUSDT").funding_interval_hours = 4
    venue = make_ccxt_venue(fake_exchange, "binanceusdm")
    rates = venue.fetch_funding_rates(["BTC/USDT:USDT", "ETH/USDT:USDT"])
    assert rates == {"BTC/USDT:USDT": (pytest.approx(0.0001), 8.0), "ETH/USDT:USDT": (pytest.approx(-0.00005), 4.0)}
    assert venue.fetch_funding_rates([SPOT]) == {}  # spot has no funding


def test_perpetual_tickers_combine_book_and_mark(fake_exchange: FakeExchange) -> None:
    fake_exchange.engine.market("usdm", "BTCUSDT").mark = 60_050.0
    venue = make_ccxt_venue(fake_exchange, "binanceusdm")
    ticker = venue.fetch_tickers([PERP])[PERP]
    assert ticker.bid == pytest.approx(59_994.0) and ticker.ask == pytest.approx(60_006.0)
    assert ticker.mark == pytest.approx(60_050.0)


def test_leverage_and_margin_mode_reach_the_account(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, "binanceusdm", margin_mode="isolated")
    venue.set_leverage(PERP, 5)
    venue.set_leverage(PERP, 5)  # margin type unchanged the second time: Binance's -4046, a success
    position = fake_exchange.engine.positions["BTCUSDT"]
    assert position.leverage == 5 and position.margin_type == "isolated"
    venue.create_order(OrderRequest("lev-1", PERP, Side.BUY, OrderType.MARKET, 0.05))
    (held,) = venue.fetch_positions()
    assert held.leverage == 5.0 and held.amount == pytest.approx(0.05)
    assert held.liquidation_price is not None and held.liquidation_price < held.entry_price


def test_perpetual_balances_are_the_wallet_without_unrealised_pnl(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, "binanceusdm")
    before = venue.fetch_balances()["USDT"]
    state = venue.create_order(OrderRequest("wal-1", PERP, Side.BUY, OrderType.MARKET, 0.1))
    assert state.fee == pytest.approx(0.1 * 60_006.0 * 0.001)
    fake_exchange.set_price(PERP, 65_000.0)  # a large unrealised gain that the balance must not include
    assert venue.fetch_balances()["USDT"] == pytest.approx(before - state.fee, rel=1e-12)
    close = venue.create_order(OrderRequest("wal-2", PERP, Side.SELL, OrderType.MARKET, 0.1, reduce_only=True))
    realised = 0.1 * ((close.average_price or 0.0) - 60_006.0)
    assert venue.fetch_balances()["USDT"] == pytest.approx(before - state.fee - close.fee + realised, rel=1e-12)


def test_unknown_symbols_are_bad_input(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, "binance")
    with pytest.raises(BadInputError, match="DOGE/USDT"):
        venue.fetch_tickers(["DOGE/USDT"])


def test_a_bare_ccxt_client_trades_against_the_fake(fake_exchange: FakeExchange) -> None:
    from trimtab.testing.fixtures import make_ccxt_client

    client = make_ccxt_client(fake_exchange, "binanceusdm")
    order = client.create_order(PERP, "market", "sell", 0.02, None, {"newClientOrderId": "bare-1"})
    assert order["status"] == "closed" and order["clientOrderId"] == "bare-1"
    positions = client.fetch_positions([PERP])
    assert positions[0]["side"] == "short" and positions[0]["contracts"] == pytest.approx(0.02)


def test_fills_since_a_moment_are_paged_forward_until_complete(fake_exchange: FakeExchange) -> None:
    from datetime import UTC, datetime, timedelta

    venue = make_ccxt_venue(fake_exchange, "binance")
    venue.fills_page_size = 3
    start = datetime.now(UTC) - timedelta(seconds=5)
    venue.create_order(OrderRequest("page-1", SPOT, Side.BUY, OrderType.LIMIT, 0.08, 50_000.0))
    for _ in range(8):
        fake_exchange.fill(SPOT, "page-1", 0.01)
        time.sleep(0.003)  # distinct milliseconds, as fills of one order have in practice
    fills = venue.fetch_fills(SPOT, since=start)
    assert len(fills) == 8
    assert len({f.trade_id for f in fills}) == 8
    assert sum(f.amount for f in fills) == pytest.approx(0.08)
    assert fake_exchange.count("GET", "/api/v3/myTrades") >= 3  # it took several pages
    assert len(venue.fetch_fills(SPOT)) == 3  # no start: the most recent page only


def test_the_fakes_brackets_reach_the_venue_as_tiers(fake_exchange: FakeExchange) -> None:
    tiers = make_ccxt_venue(fake_exchange, "binanceusdm").fetch_margin_tiers([PERP])[PERP]
    # BTCUSDT's published table: 125x to 50k at 0.4 %, 100x to 250k at 0.5 % (cum 50), 50x to 1M at 1 % (cum 1,300)
    assert [(t.floor, t.cap, t.rate, t.amount, t.max_leverage) for t in tiers[:3]] == [
        (0.0, 50_000.0, 0.004, 0.0, 125.0),
        (50_000.0, 250_000.0, 0.005, 50.0, 100.0),
        (250_000.0, 1_000_000.0, 0.01, 1_300.0, 50.0),
    ]


def test_an_isolated_liquidation_price_follows_binances_published_formula(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange, "binanceusdm", margin_mode="isolated")
    venue.set_leverage(PERP, 10)
    venue.create_order(OrderRequest("liq-1", PERP, Side.BUY, OrderType.MARKET, 2.0))
    (held,) = venue.fetch_positions()
    # Binance, one-way isolated: LP = (WB + cum - side x Q x EP) / (Q x MMR - side x Q), with WB the isolated
    # margin Q x EP / leverage and the bracket of the position at that price (here 50k-250k: 0.5 %, cum 50)
    quantity, entry = 2.0, held.entry_price
    wallet = quantity * entry / 10
    expected = (wallet + 50.0 - quantity * entry) / (quantity * 0.005 - quantity)
    assert 50_000 < quantity * expected <= 250_000  # still in that bracket at the liquidation price
    assert held.liquidation_price == pytest.approx(expected, rel=1e-9)
    assert held.margin_mode == "isolated" and held.leverage == 10.0


def test_linear_markets_carry_the_exchanges_margin_tiers(fake_exchange: FakeExchange) -> None:
    from trimtab.domain.market import MarginTier

    rules = make_ccxt_venue(fake_exchange, "binanceusdm").load_markets()[PERP].rules
    assert rules.margin_tiers[:2] == (MarginTier(0.0, 0.004, 0.0, 125.0), MarginTier(50_000.0, 0.005, 50.0, 100.0))
