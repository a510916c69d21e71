"""A live run (ccxt against the fake Binance) steers a deposit the user made on the exchange and recorded.

trimtab moves no money: the test credits the exchange's USDT balance itself (the user's deposit), records it
with ``trimtab deposit``, and the next cycle buys the underweight classes with it and sells nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from trimtab.testing.fake_exchange import FakeExchange
from trimtab.testing.fixtures import CANARY_API_KEY
from trimtab.testing.live_run import LiveRunFolder

EXECUTION = 'algo = "market"\npoll_interval_s = 0.05\n'
STATE = ["--state", "sqlite:///journal.db"]


@pytest.fixture
def fake(live: LiveRunFolder) -> Iterator[FakeExchange]:
    with FakeExchange(api_key=CANARY_API_KEY) as exchange:
        live.write(execution=EXECUTION, urls=exchange.ccxt_urls("binance"))
        exchange.engine.spot_balances.update({"USDT": 60_000.0, "BTC": 0.4, "ETH": 15.0})
        yield exchange


def _cycle(live: LiveRunFolder) -> dict[str, Any]:
    [line] = live.cycles("--once")
    return line


def test_a_recorded_deposit_on_a_live_venue_buys_only_the_underweights(live: LiveRunFolder, fake: FakeExchange) -> None:
    first = _cycle(live)  # the book off target: a full rebalance to 40 / 30 / 30
    assert first["orders"]
    equity = float(first["equity"])
    fake.engine.spot_balances["USDT"] += 30_000.0  # the user's deposit, made on the exchange
    recorded = live.trimtab("deposit", "30000", *STATE, "--note", "wire", timeout=120)
    assert recorded.returncode == 0, recorded.stderr

    steered = _cycle(live)
    assert steered["equity"] == pytest.approx(equity + 30_000.0, rel=1e-3)
    filled = [o for o in steered["orders"] if o["filled"] > 0]
    assert {o["symbol"] for o in filled} == {"BTC/USDT", "ETH/USDT"}
    assert all(o["side"] == "buy" for o in steered["orders"])  # nothing sold to buy something else
    prices = {s: fake.engine.market("spot", s.replace("/", "")).price for s in ("BTC/USDT", "ETH/USDT")}
    bought = {o["symbol"]: o["filled"] * prices[o["symbol"]] for o in filled}
    # The book sat on its targets: each class's shortfall is its target's share of the deposit.
    assert bought["BTC/USDT"] == pytest.approx(0.40 * 30_000.0, rel=0.02)
    assert bought["ETH/USDT"] == pytest.approx(0.30 * 30_000.0, rel=0.02)
    assert fake.engine.spot_balances["USDT"] > 0.0

    after = _cycle(live)  # steered once
    assert after["orders"] == [] and after["triggered"] is False
