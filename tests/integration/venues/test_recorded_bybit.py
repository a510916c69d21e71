"""Recorded real Bybit V5 answers (unified account), parsed by the real ccxt ``bybit`` client through trimtab's venue.

Each answer in ``tests/data/recorded/bybit/`` (provenance in its README) is served verbatim by the fake Bybit
at its endpoint; the venue's balances, positions, orders and trades are checked against the figures Bybit
itself wrote in the answer (never against the venue's own arithmetic).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trimtab.domain import Side
from trimtab.testing.fake_bybit import BybitMarket, FakeBybit
from trimtab.testing.fake_bybit.engine import BybitEngine
from trimtab.testing.fixtures import make_bybit_venue
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType

RECORDED = Path(__file__).parents[2] / "data" / "recorded" / "bybit"


def recorded(name: str) -> Any:
    return json.loads((RECORDED / f"{name}.json").read_text())["response"]


@pytest.fixture
def fake() -> Iterator[FakeBybit]:
    engine = BybitEngine()
    engine.add_market(
        BybitMarket(
            "spot",
            "LTCUSDT",
            "LTC",
            "USDT",
            69.63,
            qty_step="0.00001",
            min_qty="0.00001",
            min_notional="1",
            tick="0.01",
        )
    )
    engine.add_market(
        BybitMarket(
            "spot",
            "BTCUSDT",
            "BTC",
            "USDT",
            29708.7,
            qty_step="0.000001",
            min_qty="0.000048",
            min_notional="1",
            tick="0.01",
        )
    )
    engine.add_market(BybitMarket("linear", "LTCUSDT", "LTC", "USDT", 71.1, qty_step="0.1", min_qty="0.1", tick="0.01"))
    engine.add_market(BybitMarket("linear", "BTCUSDT", "BTC", "USDT", 123498.0, qty_step="0.001", min_qty="0.001"))
    with FakeBybit(engine) as server:
        yield server


def test_unified_balances_are_each_coins_wallet_balance_without_unrealised_pnl(fake: FakeBybit) -> None:
    fake.replay("GET", "/v5/account/wallet-balance", recorded("v5_account_wallet-balance"))
    balances = make_bybit_venue(fake).fetch_balances()
    (sent,) = [r for r in fake.requests if r.path == "/v5/account/wallet-balance"]
    assert sent.params["accountType"] == "UNIFIED"  # one account: spot and derivatives collateral together
    assert balances == {
        "USDC": pytest.approx(5848.20013918),
        "BTC": pytest.approx(0.85581394),
        "ETH": pytest.approx(0.09174816),
        "ADA": pytest.approx(38.68128),
        "XRP": pytest.approx(40.05245888),
        "USDT": pytest.approx(3322.25896609),
        "LTC": pytest.approx(0.02101953),
    }
    # Bybit's equity is the wallet plus the unrealised PnL the positions carry: 3322.25896609 - 17.9613
    assert balances["USDT"] - 17.9613 == pytest.approx(3304.29766609, abs=1e-8)


def test_a_linear_position_keeps_bybits_size_leverage_and_the_accounts_margin_mode(fake: FakeBybit) -> None:
    fake.replay("GET", "/v5/position/list", recorded("v5_position_list"))
    fake.replay("GET", "/v5/account/info", recorded("v5_account_info"))
    row = recorded("v5_position_list")["result"]["list"][0]
    venue = make_bybit_venue(fake)
    (position,) = venue.fetch_positions()
    assert position.symbol == "LTC/USDT:USDT"
    assert venue.load_markets()["LTC/USDT:USDT"].rules.contract_size == 1.0  # a linear contract is one coin
    assert position.amount == float(row["size"]) == 1.2  # "side": "Buy"
    assert position.entry_price == pytest.approx(64.59947917)
    assert position.mark_price == pytest.approx(71.1)
    assert position.leverage == float(row["leverage"]) == 6.0
    assert position.liquidation_price is None  # "liqPrice": "" (none stated), never a made-up 0
    assert position.margin_mode == "cross"  # the account's REGULAR_MARGIN
    # Bybit's own figures, by hand: 1.2 x 64.59947917 = 77.519375; 1.2 x (71.1 - 64.59947917) = 7.800625
    assert position.amount * position.entry_price == pytest.approx(float(row["positionValue"]))
    assert position.amount * (71.1 - position.entry_price) == pytest.approx(float(row["unrealisedPnl"]))


def test_an_order_goes_out_with_its_order_link_id_and_keeps_bybits_order_id(fake: FakeBybit) -> None:
    fake.replay("POST", "/v5/order/create", recorded("v5_order_create"))
    venue = make_bybit_venue(fake)
    state = venue.create_order(OrderRequest("tt-0123456789-1-0", "LTC/USDT", Side.BUY, OrderType.LIMIT, 0.1, 60.0))
    (sent,) = [r for r in fake.requests if r.path == "/v5/order/create"]
    assert (sent.params["category"], sent.params["symbol"], sent.params["side"]) == ("spot", "LTCUSDT", "Buy")
    assert (sent.params["qty"], sent.params["price"]) == ("0.1", "60")
    assert sent.params["orderLinkId"] == "tt-0123456789-1-0"
    assert state.exchange_order_id == recorded("v5_order_create")["result"]["orderId"] == "1609920528435648000"


def test_an_open_linear_order_reads_as_bybit_states_it(fake: FakeBybit) -> None:
    fake.replay("GET", "/v5/order/realtime", recorded("v5_order_realtime"))
    row = recorded("v5_order_realtime")["result"]["list"][0]
    (order,) = make_bybit_venue(fake).fetch_open_orders("BTC/USDT:USDT")
    assert order.exchange_order_id == row["orderId"]
    assert (order.side, order.type, order.status) == (Side.BUY, OrderType.LIMIT, OrderStatus.OPEN)
    assert order.amount == float(row["qty"]) == 0.001  # BTC: linear USDT perpetuals count in the base coin
    assert order.price == float(row["price"]) == 102000.0
    assert order.filled == 0.0
    assert order.amount * order.price == pytest.approx(float(row["leavesValue"]))  # 102 USDT


def test_a_spot_execution_keeps_price_amount_and_the_fee_in_the_coin_received(fake: FakeBybit) -> None:
    fake.replay("GET", "/v5/execution/list", recorded("v5_execution_list"))
    row = recorded("v5_execution_list")["result"]["list"][0]
    (fill,) = make_bybit_venue(fake).fetch_fills("BTC/USDT")
    assert fill.trade_id == row["execId"] and fill.exchange_order_id == row["orderId"]
    assert fill.side is Side.BUY
    assert fill.amount == pytest.approx(0.000336)
    assert fill.price == pytest.approx(29708.7)
    assert fill.amount * fill.price == pytest.approx(float(row["execValue"]))  # 9.9821232 USDT
    # a spot buy pays its fee in the coin bought: 0.000336 BTC x 0.1 % = 0.000000336 BTC
    assert (fill.fee, fill.fee_currency) == (pytest.approx(0.000336 * 0.001), "BTC")
