"""Recorded real Binance answers, parsed by the real ccxt client through trimtab's ccxt venue.

Each answer in ``tests/data/recorded/binance/`` (provenance in its README) is served verbatim by the fake
exchange at its endpoint; the venue's positions, balances, orders and trades are checked against the
figures Binance itself wrote in the answer (never against the venue's own arithmetic).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trimtab.domain import Side
from trimtab.domain.market import MarginTier
from trimtab.testing.fake_exchange import Engine, FakeExchange, MarketSpec
from trimtab.testing.fixtures import make_ccxt_venue
from trimtab.venues.ccxt import CcxtVenue
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType

RECORDED = Path(__file__).parents[2] / "data" / "recorded" / "binance"


def recorded(name: str) -> Any:
    return json.loads((RECORDED / f"{name}.json").read_text())["response"]


def _engine() -> Engine:
    engine = Engine()
    engine.add_market(MarketSpec("spot", "LTCUSDT", "LTC", "USDT", 69.63, amount_step="0.001", min_amount="0.001"))
    engine.add_market(MarketSpec("usdm", "BTCUSDT", "BTC", "USDT", 67502.7, amount_step="0.001", min_amount="0.001"))
    engine.add_market(MarketSpec("usdm", "ETHUSDT", "ETH", "USDT", 3000.0, amount_step="0.001", min_amount="0.001"))
    engine.add_market(
        MarketSpec(
            "coinm",
            "BTCUSD_PERP",
            "BTC",
            "USD",
            68234.2,
            amount_step="1",
            min_amount="1",
            tick="0.1",
            contract_size=100,
        )
    )
    engine.coinm_wallet["BTC"] = 1.0
    return engine


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    with FakeExchange(_engine()) as server:
        yield server


def venue_for(fake: FakeExchange, exchange_id: str) -> CcxtVenue:
    return make_ccxt_venue(fake, exchange_id)


def test_a_usdm_v3_position_without_leverage_field_keeps_binances_figures(fake: FakeExchange) -> None:
    fake.replay("GET", "/fapi/v3/positionRisk", recorded("fapi_v3_positionRisk"))
    row = recorded("fapi_v3_positionRisk")[0]
    assert "leverage" not in row  # the V3 answer has none: 1x would be an assumption
    (position,) = venue_for(fake, "binanceusdm").fetch_positions()
    assert position.symbol == "BTC/USDT:USDT"
    assert position.amount == pytest.approx(float(row["positionAmt"]))  # 0.009 BTC
    assert position.entry_price == pytest.approx(float(row["entryPrice"]))
    assert position.mark_price == pytest.approx(float(row["markPrice"]))
    assert position.liquidation_price == pytest.approx(float(row["liquidationPrice"]))  # 64846.98753790
    # Binance's initial margin is |notional| / leverage: 607.52416678 / 7.59405208 = 80x
    assert position.leverage == round(float(row["notional"]) / float(row["initialMargin"])) == 80
    assert position.margin_mode == "cross"  # isolatedMargin "0"
    distance = (float(row["markPrice"]) - float(row["liquidationPrice"])) / float(row["markPrice"])
    assert distance == pytest.approx(0.0393, abs=1e-4)  # what the liquidation guard must see


def test_usdm_leverage_and_margin_type_come_from_symbol_config(fake: FakeExchange) -> None:
    fake.replay("GET", "/fapi/v1/symbolConfig", recorded("fapi_v1_symbolConfig"))
    settings = venue_for(fake, "binanceusdm").fetch_leverage_settings(["BTC/USDT:USDT"])
    assert settings["BTC/USDT:USDT"].leverage == 20.0  # "leverage": "20"
    assert settings["BTC/USDT:USDT"].margin_mode == "cross"  # "marginType": "CROSSED"
    assert fake.count("GET", "/fapi/v1/symbolConfig") == 1


def test_a_coinm_position_is_counted_in_contracts_once(fake: FakeExchange) -> None:
    fake.replay("GET", "/dapi/v1/positionRisk", recorded("dapi_v1_positionRisk"))
    row = recorded("dapi_v1_positionRisk")[0]
    venue = venue_for(fake, "binancecoinm")
    (position,) = venue.fetch_positions()  # the flat BCHUSD_241227 row is dropped
    assert position.symbol == "BTC/USD:BTC"
    assert position.amount == float(row["positionAmt"]) == -3.0  # contracts
    rules = venue.load_markets()["BTC/USD:BTC"].rules
    assert rules.contract_size == 100.0 and rules.amount_step == 1.0  # whole contracts
    assert position.amount * rules.contract_size == -300.0  # USD of face value, the size applied once
    # Binance states the position's value in coins: -3 x 100 USD / mark 68234.2 = -0.00439662 BTC
    assert position.amount * rules.contract_size / float(row["markPrice"]) == pytest.approx(
        float(row["notionalValue"]), abs=1e-8
    )
    assert position.leverage == float(row["leverage"]) == 20.0
    assert position.liquidation_price == pytest.approx(float(row["liquidationPrice"]))
    assert position.entry_price == pytest.approx(float(row["entryPrice"]))
    assert position.margin_mode == "cross"


def test_a_coinm_hedge_of_25000_usd_is_sent_as_250_contracts(fake: FakeExchange) -> None:
    venue = venue_for(fake, "binancecoinm")
    contracts = 25_000.0 / venue.load_markets()["BTC/USD:BTC"].rules.contract_size
    venue.create_order(OrderRequest("tt-hedge-1", "BTC/USD:BTC", Side.SELL, OrderType.MARKET, contracts))
    (sent,) = [r for r in fake.requests if r.method == "POST" and r.path == "/dapi/v1/order"]
    assert sent.params["quantity"] == "250"


def test_spot_balances_are_binances_free_plus_locked(fake: FakeExchange) -> None:
    fake.replay("GET", "/api/v3/account", recorded("api_v3_account"))
    balances = venue_for(fake, "binance").fetch_balances()
    assert balances == {"LTC": pytest.approx(0.919741), "ETH": pytest.approx(0.02229833)}  # BTC 0 left out


def test_usdm_balances_are_the_wallet_without_unrealised_pnl(fake: FakeExchange) -> None:
    fake.replay("GET", "/fapi/v2/account", recorded("fapi_v2_account"))
    fake.replay("GET", "/fapi/v3/account", recorded("fapi_v3_account"))
    balances = venue_for(fake, "binanceusdm").fetch_balances()
    assert any(fake.count("GET", path) for path in ("/fapi/v2/account", "/fapi/v3/account"))
    answer = recorded("fapi_v3_account") if fake.count("GET", "/fapi/v3/account") else recorded("fapi_v2_account")
    wallets = {a["asset"]: float(a["walletBalance"]) for a in answer["assets"] if float(a["walletBalance"])}
    assert balances == pytest.approx(wallets)


def test_spot_trades_keep_price_amount_and_commission(fake: FakeExchange) -> None:
    fake.replay("GET", "/api/v3/myTrades", recorded("api_v3_myTrades"))
    row = recorded("api_v3_myTrades")[0]
    (fill,) = venue_for(fake, "binance").fetch_fills("LTC/USDT")
    assert fill.trade_id == row["id"] and fill.exchange_order_id == row["orderId"]
    assert fill.side is Side.SELL  # "isBuyer": false
    assert fill.amount == pytest.approx(float(row["qty"]))
    assert fill.price == pytest.approx(float(row["price"]))
    assert fill.amount * fill.price == pytest.approx(float(row["quoteQty"]))
    assert (fill.fee, fill.fee_currency) == (pytest.approx(float(row["commission"])), row["commissionAsset"])
    assert int(fill.timestamp.timestamp() * 1000) == int(row["time"])


def test_usdm_trades_keep_price_amount_and_commission(fake: FakeExchange) -> None:
    fake.replay("GET", "/fapi/v1/userTrades", recorded("fapi_v1_userTrades"))
    row = recorded("fapi_v1_userTrades")[0]
    (fill,) = venue_for(fake, "binanceusdm").fetch_fills("BTC/USDT:USDT")
    assert fill.side is Side.BUY and fill.trade_id == row["id"]
    assert fill.amount == pytest.approx(float(row["qty"]))  # 0.010 BTC
    assert fill.price == pytest.approx(float(row["price"]))
    assert (fill.fee, fill.fee_currency) == (pytest.approx(float(row["commission"])), "USDT")


def test_a_filled_spot_order_reports_binances_quantities(fake: FakeExchange) -> None:
    fake.replay("GET", "/api/v3/order", recorded("api_v3_order"))
    row = recorded("api_v3_order")
    state = venue_for(fake, "binance").fetch_order(row["clientOrderId"], "LTC/USDT")
    assert state is not None and state.status is OrderStatus.FILLED
    assert state.exchange_order_id == row["orderId"] and state.side is Side.SELL and state.type is OrderType.MARKET
    assert state.filled == pytest.approx(float(row["executedQty"]))
    assert state.average_price == pytest.approx(float(row["cummulativeQuoteQty"]) / float(row["executedQty"]))


def test_open_spot_orders_report_binances_quantities(fake: FakeExchange) -> None:
    fake.replay("GET", "/api/v3/openOrders", recorded("api_v3_openOrders"))
    row = recorded("api_v3_openOrders")[0]
    (state,) = venue_for(fake, "binance").fetch_open_orders("LTC/USDT")
    assert state.client_order_id == row["clientOrderId"] and state.status is OrderStatus.OPEN
    assert state.amount == pytest.approx(float(row["origQty"])) and state.price == pytest.approx(float(row["price"]))
    assert state.side is Side.BUY and state.filled == 0


def test_a_usdm_order_answer_is_read_as_binance_wrote_it(fake: FakeExchange) -> None:
    fake.replay("POST", "/fapi/v1/order", recorded("fapi_v1_order_post"))
    row = recorded("fapi_v1_order_post")
    request = OrderRequest("tt-rec-1", "BTC/USDT:USDT", Side.SELL, OrderType.LIMIT, 0.2, 110_001.0)
    state = venue_for(fake, "binanceusdm").create_order(request)
    assert state.exchange_order_id == str(row["orderId"]) and state.status is OrderStatus.OPEN
    assert state.amount == pytest.approx(float(row["origQty"])) and state.price == pytest.approx(float(row["price"]))
    assert state.filled == 0 and state.side is Side.SELL


def test_usdm_leverage_brackets_become_margin_tiers(fake: FakeExchange) -> None:
    fake.replay("GET", "/fapi/v1/leverageBracket", recorded("fapi_v1_leverageBracket"))
    bracket = recorded("fapi_v1_leverageBracket")[0]["brackets"][0]
    (tier,) = venue_for(fake, "binanceusdm").fetch_margin_tiers(["ETH/USDT:USDT"])["ETH/USDT:USDT"]
    assert (tier.floor, tier.cap, tier.rate) == (bracket["notionalFloor"], bracket["notionalCap"], 0.0065)
    assert (tier.amount, tier.max_leverage, tier.currency) == (bracket["cum"], bracket["initialLeverage"], "USDT")


def test_coinm_brackets_are_coin_quantities(fake: FakeExchange) -> None:
    fake.replay("GET", "/dapi/v2/leverageBracket", recorded("dapi_v2_leverageBracket"))
    bracket = recorded("dapi_v2_leverageBracket")[0]["brackets"][0]
    (tier,) = venue_for(fake, "binancecoinm").fetch_margin_tiers(["BTC/USD:BTC"])["BTC/USD:BTC"]
    assert (tier.cap, tier.rate, tier.max_leverage) == (bracket["qtyCap"], 0.004, 125)  # 50 BTC, 0.4 %, 125x
    assert tier.floor == 0.0 and tier.currency == "BTC"  # the documented example spells its floor "qtylFloor"


def test_coinm_brackets_reach_the_market_rules_in_coins(fake: FakeExchange) -> None:
    # The market rules carry the COIN-M table as Binance wrote it, in BTC: the account model looks an inverse
    # position's tier up with its size in coins (docs/valuation.md), so nothing is converted on the way.
    fake.replay("GET", "/dapi/v2/leverageBracket", recorded("dapi_v2_leverageBracket"))
    bracket = recorded("dapi_v2_leverageBracket")[0]["brackets"][0]
    rules = venue_for(fake, "binancecoinm").load_markets()["BTC/USD:BTC"].rules
    assert rules.margin_tiers == (MarginTier(0.0, bracket["maintMarginRatio"], bracket["cum"], 125.0),)
    assert rules.contract_size == 100.0


def test_coinm_leverage_and_margin_type_come_from_the_account(fake: FakeExchange) -> None:
    fake.replay("GET", "/dapi/v1/account", recorded("dapi_v1_account"))
    row = next(p for p in recorded("dapi_v1_account")["positions"] if p["symbol"] == "BTCUSD_PERP")
    settings = venue_for(fake, "binancecoinm").fetch_leverage_settings(["BTC/USD:BTC"])
    assert settings["BTC/USD:BTC"].leverage == float(row["leverage"]) == 20.0
    assert settings["BTC/USD:BTC"].margin_mode == "cross"  # "isolated": false
