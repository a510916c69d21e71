"""The fake exchange's engine (used by the venue tests) keeps Binance-like books and accounts."""

from __future__ import annotations

import pytest

from trimtab.testing.fake_exchange import Engine, ExchangeRejectError, MarketSpec, default_engine


def _engine() -> Engine:
    engine = default_engine()
    engine.taker_fee = engine.maker_fee = 0.0
    return engine


def test_perpetual_position_averages_in_realises_on_reduce_and_flips() -> None:
    engine = _engine()
    engine.place("usdm", "BTCUSDT", "BUY", "LIMIT", 1.0, 61_000.0, "a")  # crosses: fills at the ask
    ask = engine.market("usdm", "BTCUSDT").ask
    engine.set_price("usdm", "BTCUSDT", 62_000.0)
    engine.place("usdm", "BTCUSDT", "BUY", "MARKET", 1.0, None, "b")
    second = engine.market("usdm", "BTCUSDT").ask
    position = engine.positions["BTCUSDT"]
    assert position.amount == pytest.approx(2.0)
    assert position.entry_price == pytest.approx((ask + second) / 2)
    wallet, entry = engine.futures_wallet["USDT"], position.entry_price
    bid = engine.market("usdm", "BTCUSDT").bid
    engine.place("usdm", "BTCUSDT", "SELL", "MARKET", 3.0, None, "c")
    assert engine.futures_wallet["USDT"] - wallet == pytest.approx(2.0 * (bid - entry))
    assert position.amount == pytest.approx(-1.0)
    assert position.entry_price == pytest.approx(bid)  # the flipped remainder opened at the fill


def test_resting_orders_fill_when_the_book_crosses_them_and_not_before() -> None:
    engine = _engine()
    order = engine.place("spot", "BTCUSDT", "SELL", "LIMIT", 0.5, 61_000.0, "s")
    engine.set_price("spot", "BTCUSDT", 60_900.0)
    assert order.status == "NEW" and order.filled == 0
    engine.set_price("spot", "BTCUSDT", 61_100.0)
    assert order.status == "FILLED" and order.average_price == pytest.approx(61_000.0)
    assert engine.spot_balances["BTC"] == pytest.approx(0.5)
    assert engine.spot_balances["USDT"] == pytest.approx(100_000.0 + 0.5 * 61_000.0)


def test_filters_answer_with_binance_codes() -> None:
    engine = _engine()
    cases = [
        (("spot", "BTCUSDT", "BUY", "LIMIT", 0.000015, 50_000.0, "x"), -1013),  # off the lot step
        (("spot", "BTCUSDT", "BUY", "LIMIT", 0.00005, 50_000.0, "x"), -1013),  # below NOTIONAL
        (("usdm", "BTCUSDT", "BUY", "LIMIT", 0.001, 1_000.0, "x"), -4164),  # below MIN_NOTIONAL
        (("spot", "BTCUSDT", "SELL", "MARKET", 2.0, None, "x"), -2010),  # more BTC than held
        (("usdm", "BTCUSDT", "SELL", "MARKET", 0.1, None, "x", "GTC", True), -2022),  # reduce-only, no position
        (("spot", "BTCUSDT", "BUY", "LIMIT_MAKER", 0.01, 70_000.0, "x"), -2010),  # post-only would take
        (("spot", "NOPE", "BUY", "MARKET", 1.0, None, "x"), -1121),
    ]
    for args, code in cases:
        with pytest.raises(ExchangeRejectError) as raised:
            engine.place(*args)  # type: ignore[arg-type]
        assert raised.value.code == code, args


def test_a_client_id_may_be_reused_once_the_first_order_is_closed() -> None:
    engine = _engine()
    engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.01, 50_000.0, "same")
    with pytest.raises(ExchangeRejectError):
        engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.01, 50_000.0, "same")
    engine.cancel("spot", "BTCUSDT", "same", None)
    engine.place("spot", "BTCUSDT", "BUY", "LIMIT", 0.01, 50_000.0, "same")  # as on Binance: a new order
    assert sum(1 for o in engine.orders if o.client_order_id == "same") == 2


def test_custom_markets_can_be_added() -> None:
    engine = Engine()
    engine.add_market(MarketSpec("spot", "SOLUSDT", "SOL", "USDT", 150.0, amount_step="0.01", min_amount="0.01"))
    engine.spot_balances["USDT"] = 1_000.0
    order = engine.place("spot", "SOLUSDT", "BUY", "MARKET", 1.0, None, "sol")
    assert order.status == "FILLED"
    # Binance charges a spot buy's commission in the asset bought: 1 SOL less 0.1 %
    assert engine.spot_balances["SOL"] == pytest.approx(0.999)
    assert engine.spot_balances["USDT"] == pytest.approx(1_000.0 - 150.0 * 1.0002 / 1.0001 * 1.0, rel=1e-3)
