"""The fake Bybit, driven by the real ccxt ``bybit`` client: Bybit's documented refusals and a traded account.

Refusal codes are Bybit's V5 ones (https://bybit-exchange.github.io/docs/v5/error); ccxt maps each to its
error class (10001 BadRequest, 110007 and 170131 InsufficientFunds, 110094, 170136, 170137 and 170140
InvalidOrder), so each test checks the code that came back, not only the class.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import ccxt
import pytest

from trimtab.domain import Side
from trimtab.errors import OrderRejectedError
from trimtab.testing.fake_bybit import FakeBybit
from trimtab.testing.fixtures import CANARY_API_KEY, CANARY_SECRET, make_bybit_venue
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType


@pytest.fixture
def fake() -> Iterator[FakeBybit]:
    with FakeBybit(api_key=CANARY_API_KEY) as server:
        yield server


def client(fake: FakeBybit) -> Any:
    options = {
        "enableUnifiedAccount": True,
        "enableUnifiedMargin": False,
        "fetchMarkets": {"types": ["spot", "linear"]},
    }
    exchange = ccxt.bybit(
        {
            "apiKey": CANARY_API_KEY,
            "secret": CANARY_SECRET,
            "urls": fake.ccxt_urls(),
            "options": options,
            "enableRateLimit": False,  # the fake needs no pacing
        }
    )
    exchange.load_markets()
    return exchange


def refusal(fake: FakeBybit, symbol: str, side: str, amount: float, link_id: str = "tt-x-1-0") -> int:
    """The ``retCode`` Bybit's answer carried, as ccxt's error quotes the answer's body."""
    with pytest.raises(ccxt.BaseError) as raised:
        client(fake).create_order(symbol, "market", side, amount, None, {"clientOrderId": link_id})
    body = json.loads(str(raised.value).split(" ", 1)[1])
    return int(body["retCode"])


@pytest.mark.parametrize(
    ("symbol", "side", "amount", "link_id", "code"),
    [
        ("BTC/USDT:USDT", "sell", 0.01, "tt:has:colons", 10001),  # orderLinkId: letters, digits, - and _
        ("BTC/USDT:USDT", "sell", 0.01, "x" * 37, 10001),  # orderLinkId: at most 36 characters
        ("BTC/USDT:USDT", "sell", 20.0, "tt-big-1-0", 110007),  # 20 BTC x 60000 / 10x = 120000 USDT > 50000
        ("BTC/USDT", "buy", 1.0, "tt-spot-1-0", 170131),  # 60000 USDT of BTC from a 50000 USDT wallet
        ("ETH/USDT", "sell", 1.0, "tt-spot-2-0", 170131),  # no ETH in the wallet
    ],
)
def test_the_fake_refuses_as_bybit_does(
    fake: FakeBybit, symbol: str, side: str, amount: float, link_id: str, code: int
) -> None:
    assert refusal(fake, symbol, side, amount, link_id) == code
    assert not fake.engine.orders  # nothing was booked


@pytest.mark.parametrize(
    ("category", "symbol", "qty", "code"),
    [
        ("linear", "BTCUSDT", "0.0015", 10001),  # off the 0.001 qtyStep
        ("linear", "BTCUSDT", "0.0005", 10001),  # below minOrderQty 0.001 (and off the step)
        ("linear", "ETHUSDT", "0.01", 110094),  # 0.01 ETH x 3000 = 30 USDT, below a 50 USDT minNotionalValue
        ("spot", "BTCUSDT", "0.0000005", 170137),  # more decimals than basePrecision 0.000001
        ("spot", "BTCUSDT", "0.00001", 170136),  # below minOrderQty 0.000048
    ],
)
def test_quantity_rules_refuse_with_bybits_codes(
    fake: FakeBybit, category: str, symbol: str, qty: str, code: int
) -> None:
    if code == 110094:
        fake.engine.market("linear", "ETHUSDT").min_notional = "50"  # a 50 USDT minimum: 30 USDT is short of it
    body = {
        "category": category,
        "symbol": symbol,
        "side": "Sell",
        "orderType": "Market",
        "qty": qty,
        "orderLinkId": "tt-q-1-0",
    }
    answer = fake.handle("POST", "/v5/order/create", body, CANARY_API_KEY)
    assert int(answer["retCode"]) == code


def test_spot_minimum_order_value_is_170140(fake: FakeBybit) -> None:
    fake.engine.market("spot", "BTCUSDT").min_notional = "5"
    body = {
        "category": "spot",
        "symbol": "BTCUSDT",
        "side": "Sell",
        "orderType": "Market",
        "qty": "0.00005",
        "orderLinkId": "tt-n-1-0",
    }  # 0.00005 BTC x 60000 = 3 USDT < 5
    assert int(fake.handle("POST", "/v5/order/create", body, CANARY_API_KEY)["retCode"]) == 170140


def test_a_duplicate_order_link_id_is_110072_and_books_nothing_twice(fake: FakeBybit) -> None:
    exchange = client(fake)
    exchange.create_order("BTC/USDT:USDT", "market", "sell", 0.01, None, {"clientOrderId": "tt-dup-1-0"})
    with pytest.raises(ccxt.InvalidOrder, match="110072"):
        exchange.create_order("BTC/USDT:USDT", "market", "sell", 0.01, None, {"clientOrderId": "tt-dup-1-0"})
    assert len(fake.engine.orders) == 1


def test_a_missing_key_is_refused_with_10003(fake: FakeBybit) -> None:
    answer = fake.handle("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, "someone-else")
    assert answer["retCode"] == 10003


def test_the_venue_refuses_a_client_id_bybit_would_refuse_before_sending(fake: FakeBybit) -> None:
    venue = make_bybit_venue(fake)
    venue.load_markets()
    with pytest.raises(OrderRejectedError, match="letters, digits, - and _"):
        venue.create_order(OrderRequest("tt:0123:1:0", "BTC/USDT:USDT", Side.SELL, OrderType.MARKET, 0.01))
    assert fake.count("POST", "/v5/order/create") == 0


def test_a_hedge_trades_in_base_units_on_one_collateral_pool(fake: FakeBybit) -> None:
    venue = make_bybit_venue(fake)
    venue.load_markets()
    state = venue.create_order(OrderRequest("tt-hedge-1-0", "BTC/USDT:USDT", Side.SELL, OrderType.MARKET, 0.25))
    (sent,) = [r for r in fake.requests if r.path == "/v5/order/create"]
    assert (sent.params["qty"], sent.params["orderLinkId"], sent.params["category"]) == (
        "0.25",
        "tt-hedge-1-0",
        "linear",
    )
    found = venue.fetch_order("tt-hedge-1-0", "BTC/USDT:USDT")
    assert found is not None and found.status is OrderStatus.FILLED
    assert found.filled == 0.25 and found.average_price == 60000.0
    # Bybit's 0.055 % taker fee on 0.25 x 60000 = 15000 USDT of notional is 8.25 USDT
    assert (found.fee, found.fee_currency) == (pytest.approx(8.25), "USDT")
    assert state.client_order_id == "tt-hedge-1-0"
    (position,) = venue.fetch_positions()
    assert (position.symbol, position.amount, position.entry_price) == ("BTC/USDT:USDT", -0.25, 60000.0)
    assert position.leverage == 10.0 and position.margin_mode == "cross"
    # the one pool: the fee left the unified wallet's USDT, the BTC spot balance is untouched
    assert venue.fetch_balances() == {"USDT": pytest.approx(50_000.0 - 8.25), "BTC": pytest.approx(0.5)}
    (fill,) = venue.fetch_fills("BTC/USDT:USDT")
    assert (fill.client_order_id, fill.amount, fill.price) == ("tt-hedge-1-0", 0.25, 60000.0)


def test_a_resting_limit_order_is_cancelled(fake: FakeBybit) -> None:
    venue = make_bybit_venue(fake)
    venue.load_markets()
    venue.create_order(OrderRequest("tt-rest-1-0", "ETH/USDT", Side.BUY, OrderType.LIMIT, 1.0, 2500.0))
    (open_order,) = venue.fetch_open_orders("ETH/USDT")
    assert (open_order.client_order_id, open_order.status) == ("tt-rest-1-0", OrderStatus.OPEN)
    cancelled = venue.cancel_order("tt-rest-1-0", "ETH/USDT")
    assert cancelled.status is OrderStatus.CANCELED
    assert venue.fetch_open_orders("ETH/USDT") == []


@pytest.mark.parametrize(
    ("account_mode", "expected"),
    [("REGULAR_MARGIN", "cross"), ("ISOLATED_MARGIN", "isolated"), ("PORTFOLIO_MARGIN", "cross")],
)
def test_a_positions_margin_mode_is_the_unified_accounts(fake: FakeBybit, account_mode: str, expected: str) -> None:
    fake.engine.margin_mode = account_mode
    venue = make_bybit_venue(fake)
    venue.load_markets()
    venue.create_order(OrderRequest("tt-mode-1-0", "ETH/USDT:USDT", Side.BUY, OrderType.MARKET, 1.0))
    (position,) = venue.fetch_positions()
    assert position.margin_mode == expected
    assert fake.count("GET", "/v5/account/info") == 1


def _create(fake: FakeBybit, **fields: str) -> dict[str, Any]:
    body = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01", **fields}
    answer: dict[str, Any] = fake.handle("POST", "/v5/order/create", body, CANARY_API_KEY)
    return answer


def _history(fake: FakeBybit, category: str, link_id: str) -> dict[str, Any]:
    """The order as Bybit lists it: open ones in ``/v5/order/realtime``, closed ones in ``/v5/order/history``."""
    params = {"category": category, "orderLinkId": link_id}
    rows = [
        row
        for path in ("/v5/order/realtime", "/v5/order/history")
        for row in fake.handle("GET", path, params, CANARY_API_KEY)["result"]["list"]
    ]
    (row,) = rows
    return dict(row)


def test_a_post_only_order_that_would_take_is_accepted_then_cancelled_by_the_matching_engine(fake: FakeBybit) -> None:
    answer = _create(fake, price="61000", timeInForce="PostOnly", orderLinkId="tt-po-1-0")  # above 60,000: takes
    assert answer["retCode"] == 0  # Bybit accepts the request ...
    row = _history(fake, "spot", "tt-po-1-0")  # ... and its matching engine cancels the order
    assert (row["orderStatus"], row["rejectReason"], row["cumExecQty"]) == (
        "Cancelled",
        "EC_PostOnlyWillTakeLiquidity",
        "0",
    )
    assert fake.engine.wallet == {"USDT": 50_000.0, "BTC": 0.5}


@pytest.mark.parametrize(("category", "status"), [("spot", "PartiallyFilledCanceled"), ("linear", "Cancelled")])
def test_a_partly_filled_order_cancelled_ends_as_bybit_names_it(fake: FakeBybit, category: str, status: str) -> None:
    symbol = "BTC/USDT" if category == "spot" else "BTC/USDT:USDT"
    assert _create(fake, category=category, qty="0.05", price="59000", orderLinkId="tt-pc-1-0")["retCode"] == 0
    fake.fill(symbol, "tt-pc-1-0", 0.02)
    assert _history(fake, category, "tt-pc-1-0")["orderStatus"] == "PartiallyFilled"  # still open
    cancel = {"category": category, "symbol": "BTCUSDT", "orderLinkId": "tt-pc-1-0"}
    assert fake.handle("POST", "/v5/order/cancel", cancel, CANARY_API_KEY)["retCode"] == 0
    row = _history(fake, category, "tt-pc-1-0")
    assert (row["orderStatus"], row["cumExecQty"], row["leavesQty"]) == (status, "0.02", "0")


def test_a_resting_spot_buy_locks_its_quote_coin(fake: FakeBybit) -> None:
    assert _create(fake, qty="0.8", price="59000", orderLinkId="tt-lock-1-0")["retCode"] == 0  # 47,200 USDT held
    assert _create(fake, qty="0.1", price="59000", orderLinkId="tt-lock-2-0")["retCode"] == 170131  # 5,900 > 2,800
    (usdt,) = [c for c in answers_wallet(fake) if c["coin"] == "USDT"]
    assert float(usdt["locked"]) == pytest.approx(0.8 * 59_000.0)


def answers_wallet(fake: FakeBybit) -> list[dict[str, Any]]:
    answer = fake.handle("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, CANARY_API_KEY)
    return list(answer["result"]["list"][0]["coin"])
