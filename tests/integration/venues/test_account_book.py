"""Binance's spot, USD-M and COIN-M wallets, one ccxt connection each, as one book (against the fake)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from trimtab.domain import (
    DerivativePosition,
    DerivativeQuote,
    MarketSnapshot,
    Portfolio,
    Side,
    SpotHolding,
    parse_symbol,
)
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.errors import OrderRejectedError, TransferRejectedError
from trimtab.testing.fake_exchange import FakeExchange
from trimtab.testing.fixtures import CANARY_API_KEY, CANARY_SECRET, make_ccxt_venue
from trimtab.valuation.accounts import account_margins, tier_notional
from trimtab.valuation.margin import max_leverage_at
from trimtab.venues.book import AccountBook, BookAccount, wallet_for
from trimtab.venues.ccxt import AccountConnection, Credentials, build_ccxt_book, ccxt_class_for
from trimtab.venues.ports import OrderRequest, OrderType


@pytest.fixture
def book(fake_exchange: FakeExchange) -> Iterator[AccountBook]:
    accounts = [
        BookAccount(name, "binance", wallet_for(cls, kind), make_ccxt_venue(fake_exchange, cls))
        for name, cls, kind in (
            ("binance-spot", "binance", "spot"),
            ("binance-usdm", "binanceusdm", "derivatives"),
            ("binance-coinm", "binancecoinm", "derivatives"),
        )
    ]
    built = AccountBook("binance", accounts)
    yield built
    built.close()


def test_each_symbol_is_traded_by_its_own_account(book: AccountBook) -> None:
    markets = book.load_markets()
    assert {"BTC/USDT", "BTC/USDT:USDT", "BTC/USD:BTC"} <= set(markets)
    assert book.account_of("BTC/USDT").name == "binance-spot"
    assert book.account_of("BTC/USDT:USDT").name == "binance-usdm"
    assert book.account_of("BTC/USD:BTC").name == "binance-coinm"
    assert markets["BTC/USD:BTC"].rules.contract_size == 100.0


def test_every_wallet_is_seen_separately_and_in_the_total(book: AccountBook) -> None:
    # the fake's wallets: spot 100,000 USDT + 1 BTC + 10 ETH; USD-M 50,000 USDT; COIN-M 0.5 BTC
    assert book.account_balances() == {
        "binance-spot": {"USDT": 100_000.0, "BTC": 1.0, "ETH": 10.0},
        "binance-usdm": {"USDT": 50_000.0},
        "binance-coinm": {"BTC": 0.5},
    }
    assert book.fetch_balances() == {"USDT": 150_000.0, "BTC": 1.5, "ETH": 10.0}
    # one book: 150,000 USDT + 1.5 BTC x 60,000 + 10 ETH x 3,000 = 270,000 (the USD-M wallet included)
    total = 150_000.0 + 1.5 * 60_000.0 + 10 * 3_000.0
    assert total == 270_000.0


def test_positions_stay_with_their_account_and_inverse_ones_in_contracts(
    book: AccountBook, fake_exchange: FakeExchange
) -> None:
    book.create_order(OrderRequest("tt-b-1", "BTC/USDT:USDT", Side.SELL, OrderType.MARKET, 0.2))
    book.create_order(OrderRequest("tt-b-2", "BTC/USD:BTC", Side.SELL, OrderType.MARKET, 3.0))
    positions = book.account_positions()
    assert [(p.symbol, p.amount) for p in positions["binance-usdm"]] == [("BTC/USDT:USDT", pytest.approx(-0.2))]
    (coin,) = positions["binance-coinm"]
    assert (coin.symbol, coin.amount, coin.leverage) == ("BTC/USD:BTC", -3.0, 20.0)  # contracts, the account's 20x
    assert positions["binance-spot"] == []
    assert fake_exchange.engine.positions["BTCUSD_PERP"].amount == -3.0
    # COIN-M margin and PnL are in BTC: a 300 USD short can lose at most 300 / 59,994 = 0.005 BTC however high
    # the price goes, less than the 0.5 BTC wallet, so it has no liquidation price (Binance answers "0")
    assert coin.liquidation_price is None
    assert {o.client_order_id for o in book.fetch_open_orders()} == set()


def test_coinm_tiers_are_read_in_coins_and_valuation_applies_them_in_coins(book: AccountBook) -> None:
    # The fake's BTCUSD_PERP brackets (floors and rates of ccxt's recorded Binance answer, in BTC): 0.4 % to
    # 5 BTC, 0.5 % to 10 BTC, 1 % beyond; Binance's cum keeps the maintenance margin continuous:
    # cum_2 = 5 x (0.005 - 0.004) = 0.005 BTC, cum_3 = 0.005 + 10 x (0.01 - 0.005) = 0.055 BTC.
    rules = book.load_markets()["BTC/USD:BTC"].rules
    assert [(t.floor, t.rate, t.amount) for t in rules.margin_tiers[:3]] == [
        (0.0, 0.004, 0.0),
        (5.0, 0.005, pytest.approx(0.005)),
        (10.0, 0.01, pytest.approx(0.055)),
    ]
    # By hand: a 3,600-contract short (360,000 USD) at 60,000 is 6 BTC, in the second bracket: maintenance
    # 6 x 0.5 % - 0.005 = 0.025 BTC = 1,500 USDT, and 100x allowed (1 / (2 x 0.5 %)). Read as quote notional,
    # 360,000 would have fallen in the last bracket (50 %).
    account = Account("binance-coinm", "binance", AccountKind.DERIVATIVES, MarginMode.CROSS, {"BTC": 1.0})
    short = DerivativePosition(parse_symbol("BTC/USD:BTC"), -3_600.0, 60_000.0, 20.0, "binance-coinm")
    portfolio = Portfolio("USDT", (SpotHolding("BTC", 1.0, "binance-coinm"),), (short,), (account,))
    market = MarketSnapshot(
        datetime(2026, 11, 21, tzinfo=UTC),
        {"BTC": 60_000.0, "USDT": 1.0},
        {"BTC/USD:BTC": DerivativeQuote(mark=60_000.0)},
        markets={"BTC/USD:BTC": rules},
    )
    (risk,) = account_margins(portfolio, market).positions
    assert risk.maintenance_margin == pytest.approx((6.0 * 0.005 - 0.005) * 60_000.0, rel=1e-12)
    assert max_leverage_at(tier_notional(risk, market, "USDT"), rules.margin_tiers) == 100.0


def test_a_transfer_between_accounts_names_binances_wallets(book: AccountBook, fake_exchange: FakeExchange) -> None:
    request = book.transfer_request("tt-t-1", "USDT", 2_000.0, "binance-spot", "binance-usdm")
    assert (request.from_wallet, request.to_wallet) == ("spot", "linear")
    book.transfer_venue("binance").transfer(request)
    assert book.account_balances()["binance-usdm"] == {"USDT": 52_000.0}
    assert fake_exchange.engine.transfers[-1].type == "MAIN_UMFUTURE"
    with pytest.raises(TransferRejectedError):
        book.transfer_venue("bybit")


def test_a_symbol_no_account_trades_is_refused(book: AccountBook) -> None:
    with pytest.raises(OrderRejectedError, match="no account"):
        book.create_order(OrderRequest("tt-b-3", "SOL/USDT", Side.BUY, OrderType.MARKET, 1.0))


def test_the_portfolios_accounts_open_one_connection_each(fake_exchange: FakeExchange) -> None:
    connections = [
        AccountConnection("spot", "binance", "spot"),
        AccountConnection("perps", "binance", "derivatives"),
        AccountConnection("coin-perps", "binance", "derivatives", inverse=True),
    ]
    assert [ccxt_class_for(c) for c in connections] == ["binance", "binanceusdm", "binancecoinm"]
    keys = Credentials(CANARY_API_KEY, CANARY_SECRET, source="test")
    book = build_ccxt_book(
        "binance",
        connections,
        lambda exchange: keys,
        config_for=lambda cls: {"urls": fake_exchange.ccxt_urls(cls), "enableRateLimit": False, "rateLimit": 0},
    )
    try:
        assert [(a.name, a.wallet) for a in book.accounts] == [
            ("spot", "spot"),
            ("perps", "linear"),
            ("coin-perps", "inverse"),
        ]
        assert book.account_balances()["perps"] == {"USDT": 50_000.0}
        assert book.account_of("BTC/USD:BTC").name == "coin-perps"
        before = fake_exchange.count("GET", "/fapi/v3/positionRisk")
        assert book.account_positions() == {"spot": [], "perps": [], "coin-perps": []}
        assert fake_exchange.count("GET", "/fapi/v3/positionRisk") == before + 1  # the spot wallet is not asked
    finally:
        book.close()


def test_the_live_loop_holds_each_wallet_as_its_own_account(book: AccountBook) -> None:
    from trimtab.app.holdings import read_holdings
    from trimtab.policy.config import Policy

    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05, "hedge": "BTC/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
        }
    )
    book.create_order(OrderRequest("tt-h-1", "BTC/USDT:USDT", Side.SELL, OrderType.MARKET, 0.1))
    portfolio, symbols = read_holdings(book, policy)
    held = {(h.venue, h.asset): h.amount for h in portfolio.spot}
    assert held == {
        ("binance-spot", "USDT"): 100_000.0,
        ("binance-spot", "BTC"): 1.0,  # ETH is no class's asset: left out
        ("binance-usdm", "USDT"): pytest.approx(50_000.0 - 0.1 * 59_994.0 * 0.001),  # the wallet, less the fee
        ("binance-coinm", "BTC"): 0.5,
    }
    (short,) = portfolio.derivatives
    assert (short.venue, short.instrument.symbol, short.amount) == (
        "binance-usdm",
        "BTC/USDT:USDT",
        pytest.approx(-0.1),
    )
    assert short.leverage == 20.0 and symbols == ["BTC/USDT:USDT"]


def test_the_loop_keeps_the_venues_liquidation_price(book: AccountBook) -> None:
    from trimtab.app.holdings import read_holdings
    from trimtab.domain.accounts import Account, AccountKind
    from trimtab.policy.config import Policy

    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
        }
    )
    book.set_leverage("BTC/USDT:USDT", 50)
    # 2 BTC (120,000 USDT) on a 50,000 USDT cross wallet: liquidated near 35,000
    book.create_order(OrderRequest("tt-h-2", "BTC/USDT:USDT", Side.BUY, OrderType.MARKET, 2.0))
    accounts = (Account("binance-usdm", "binance", AccountKind.DERIVATIVES),)
    portfolio, _ = read_holdings(book, policy, accounts, venue_liquidation=True)
    (position,) = portfolio.derivatives
    (reported,) = book.account_positions()["binance-usdm"]
    assert position.liquidation_price == reported.liquidation_price is not None  # the exchange's, as reported
    assert position.leverage == 50.0 and portfolio.accounts == accounts
