"""The fake exchange refuses what Binance refuses, with Binance's codes (rules and sources: docs/venues.md)."""

from __future__ import annotations

import itertools

import pytest

from trimtab.testing.fake_exchange import Engine, ExchangeRejectError, MarketSpec
from trimtab.testing.fake_exchange.accounts import set_leverage
from trimtab.testing.fake_exchange.brackets import BTCUSDT, max_size_at
from trimtab.testing.fake_exchange.futures import FakePosition
from trimtab.testing.fake_exchange.server import default_engine


def _refusal(call: object) -> tuple[int, str]:
    assert callable(call)
    with pytest.raises(ExchangeRejectError) as caught:
        call()
    return caught.value.code, caught.value.message


def test_client_order_ids_follow_binances_pattern_and_length() -> None:
    engine = default_engine()
    ok = "tt-0123456789-12-3:A.b/c_d" + "x" * 10  # 36 characters of the legal set
    assert len(ok) == 36
    engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.01, 50_000.0, ok)
    too_long = "x" * 37
    code, message = _refusal(lambda: engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.01, 50_000.0, too_long))
    assert code == -1100 and "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'" in message
    assert _refusal(lambda: engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.01, 50_000.0, "bad id!"))[0] == -1100
    assert _refusal(lambda: engine.place("usdm", "BTCUSDT", "BUY", "LIMIT", 0.01, 59_000.0, too_long)) == (
        -4015,
        "Client order id is not valid.",
    )


def test_prices_off_the_tick_are_refused() -> None:
    engine = default_engine()  # tick 0.01
    code, message = _refusal(lambda: engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.01, 59_000.005, "t1"))
    assert (code, message) == (-1013, "Filter failure: PRICE_FILTER")
    assert _refusal(lambda: engine.place("usdm", "BTCUSDT", "BUY", "LIMIT", 0.01, 59_000.005, "t2")) == (
        -4014,
        "Price not increased by tick size.",
    )
    engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.01, 59_000.01, "t3")  # on the tick


def test_quantities_off_the_step_are_refused() -> None:
    engine = default_engine()  # spot step 0.00001, USD-M step 0.001
    assert _refusal(lambda: engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.000015, 59_000.0, "q1")) == (
        -1013,
        "Filter failure: LOT_SIZE",
    )
    assert _refusal(lambda: engine.place("usdm", "BTCUSDT", "BUY", "LIMIT", 0.0015, 59_000.0, "q2"))[0] == -4023
    assert _refusal(lambda: engine.place("usdm", "BTCUSDT", "BUY", "MARKET", 0.0001, None, "q3"))[0] == -4004


def test_spot_percent_price_by_side_bounds_each_side_against_the_average_price() -> None:
    engine = default_engine()  # BTC 60,000; Binance's 5 / 0.2 multipliers for both sides
    refused = ("Filter failure: PERCENT_PRICE_BY_SIDE",)
    assert _refusal(lambda: engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.001, 11_999.99, "p1"))[1:] == refused
    engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.001, 12_000.0, "p2")  # exactly 0.2 x 60,000
    assert _refusal(lambda: engine.place("spot", "BTCUSDT", "SELL", "LIMIT", 0.001, 300_000.01, "p3"))[1:] == refused
    engine.market("spot", "ETHUSDT").percent_price_by_side = (1.1, 0.8, 1.2, 0.9)  # asymmetric, as some pairs
    assert _refusal(lambda: engine.place("spot", "ETHUSDT", "SELL", "LIMIT", 0.1, 2_699.0, "p4"))[0] == -1013
    engine.place("spot", "ETHUSDT", "SELL", "LIMIT", 0.1, 2_700.0, "p5")  # 0.9 x 3,000


def test_spot_percent_price_and_futures_mark_multipliers() -> None:
    engine = default_engine()
    engine.market("spot", "ETHUSDT").percent_price = (1.5, 0.5)
    assert _refusal(lambda: engine.place("spot", "ETHUSDT", "BUY", "LIMIT", 0.1, 4_500.01, "m1")) == (
        -1013,
        "Filter failure: PERCENT_PRICE",
    )
    # USD-M PERCENT_PRICE: a buy at most 1.05 x mark, a sell at least 0.95 x mark (mark 60,000)
    assert _refusal(lambda: engine.place("usdm", "BTCUSDT", "BUY", "LIMIT", 0.01, 63_000.1, "m2"))[0] == -4016
    assert _refusal(lambda: engine.place("usdm", "BTCUSDT", "SELL", "LIMIT", 0.01, 56_999.9, "m3"))[0] == -4024
    engine.place("usdm", "BTCUSDT", "SELL", "LIMIT", 0.01, 63_000.0, "m4")


def test_minimum_notional_spot_and_futures() -> None:
    engine = default_engine()  # 5 USDT minimum
    assert _refusal(lambda: engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.00008, 59_000.0, "n1")) == (
        -1013,
        "Filter failure: NOTIONAL",
    )
    code, message = _refusal(lambda: engine.place("usdm", "ETHUSDT", "BUY", "LIMIT", 0.001, 2_990.0, "n2"))
    assert code == -4164 and "no smaller than 5" in message


def test_the_published_btcusdt_brackets_and_their_maintenance_amounts() -> None:
    # Binance's table (2021-03-18 announcement): 125x to 50k at 0.4 %, 100x to 250k at 0.5 %, 50x to 1M at 1 %,
    # 20x to 10M at 2.5 %, 10x to 20M at 5 %, 5x to 50M at 10 % ...; cum keeps maintenance continuous
    assert [(b.cap, b.max_leverage, b.rate) for b in BTCUSDT[:6]] == [
        (50_000, 125, 0.004),
        (250_000, 100, 0.005),
        (1_000_000, 50, 0.01),
        (10_000_000, 20, 0.025),
        (20_000_000, 10, 0.05),
        (50_000_000, 5, 0.10),
    ]
    assert [b.cum for b in BTCUSDT[:6]] == [0.0, 50.0, 1_300.0, 16_300.0, 266_300.0, 1_266_300.0]
    for lower, upper in itertools.pairwise(BTCUSDT):  # continuous at every floor
        assert upper.floor * lower.rate - lower.cum == pytest.approx(upper.floor * upper.rate - upper.cum)
    assert max_size_at(BTCUSDT, 20) == 10_000_000 and max_size_at(BTCUSDT, 126) == 0.0


def test_fifty_million_at_twenty_times_is_refused() -> None:
    engine = Engine()
    engine.add_market(MarketSpec("usdm", "BTCUSDT", "BTC", "USDT", 50_000.0, amount_step="0.001", min_amount="0.001"))
    engine.futures_wallet["USDT"] = 10_000_000.0  # margin enough: the bracket, not the wallet, refuses
    engine.positions["BTCUSDT"] = FakePosition(leverage=20)
    code, message = _refusal(lambda: engine.place("usdm", "BTCUSDT", "BUY", "MARKET", 1_000.0, None, "big"))
    assert (code, message) == (-2027, "Exceeded the maximum allowable position at current leverage.")
    engine.place("usdm", "BTCUSDT", "BUY", "MARKET", 199.0, None, "fits")  # 199 x 50,000 x 1.0001 < 10M


def test_leverage_above_the_bracket_maximum_is_refused() -> None:
    engine = default_engine()
    handler = set_leverage("usdm")
    assert _refusal(lambda: handler(engine, {"symbol": "BTCUSDT", "leverage": "126"})) == (
        -4028,
        "Leverage 126 is not valid",
    )
    assert handler(engine, {"symbol": "BTCUSDT", "leverage": "125"})["maxNotionalValue"] == "50000"
    engine.place("usdm", "BTCUSDT", "BUY", "MARKET", 0.5, None, "open")  # 30,000 USDT at 125x
    handler(engine, {"symbol": "BTCUSDT", "leverage": "20"})
    engine.place("usdm", "BTCUSDT", "BUY", "MARKET", 1.0, None, "more")  # 90,000 USDT: only 100x or less
    assert _refusal(lambda: handler(engine, {"symbol": "BTCUSDT", "leverage": "125"}))[0] == -2027


def test_spot_buy_commission_is_charged_in_the_base_asset() -> None:
    engine = default_engine()
    engine.taker_fee = 0.001
    before_btc, before_usdt = engine.spot_balances["BTC"], engine.spot_balances["USDT"]
    engine.place("spot", "BTCUSDT", "BUY", "MARKET", 0.1, None, "fee-buy")
    ask = engine.market("spot", "BTCUSDT").ask
    assert engine.spot_balances["BTC"] - before_btc == pytest.approx(0.1 - 0.0001)
    assert before_usdt - engine.spot_balances["USDT"] == pytest.approx(0.1 * ask)
    (trade,) = engine.trades
    assert (trade.fee, trade.fee_asset) == (pytest.approx(0.0001), "BTC")
    engine.place("spot", "BTCUSDT", "SELL", "MARKET", 0.1, None, "fee-sell")
    bid = engine.market("spot", "BTCUSDT").bid
    assert (engine.trades[-1].fee_asset, engine.trades[-1].fee) == ("USDT", pytest.approx(0.1 * bid * 0.001))
