"""A live run (ccxt against the fake Binance) steers a deposit the user made on the exchange and recorded.

trimtab moves no money: the test credits the exchange's USDT balance itself (the user's deposit), records it
with ``trimtab deposit``, and the next cycle buys the underweight classes with it and sells nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.fake_exchange import FakeExchange
from trimtab.testing.fixtures import CANARY_API_KEY, CANARY_SECRET

POLICY = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.40
band = 0.02
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.30
band = 0.02
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.30
band = 0.03
cash = true
[rebalance]
min_notional = 10.0
"""
EXECUTION = 'algo = "market"\npoll_interval_s = 0.05\n'
RUN = ["run", "--venue", "binance", "--policy", "policy.toml", "--execution", "execution.toml"]
STATE = ["--state", "sqlite:///journal.db"]


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeExchange]:
    with FakeExchange(api_key=CANARY_API_KEY) as exchange:
        (tmp_path / "policy.toml").write_text(POLICY)
        (tmp_path / "execution.toml").write_text(EXECUTION)
        (tmp_path / "venue.json").write_text(
            json.dumps({"urls": exchange.ccxt_urls("binance"), "timeout": 1500, "enableRateLimit": False})
        )
        exchange.engine.spot_balances.update({"USDT": 60_000.0, "BTC": 0.4, "ETH": 15.0})
        yield exchange


def _trimtab(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
    env["TRIMTAB_BINANCE_API_KEY"] = CANARY_API_KEY
    env["TRIMTAB_BINANCE_API_SECRET"] = CANARY_SECRET
    return subprocess.run(
        [sys.executable, "-m", "trimtab", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def _cycle(tmp_path: Path) -> dict[str, Any]:
    done = _trimtab(tmp_path, *RUN, "--venue-config", "venue.json", *STATE, "--once", "--format", "json")
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(text) for text in done.stdout.splitlines() if text.startswith("{")]
    return line


def test_a_recorded_deposit_on_a_live_venue_buys_only_the_underweights(tmp_path: Path, fake: FakeExchange) -> None:
    first = _cycle(tmp_path)  # the book off target: a full rebalance to 40 / 30 / 30
    assert first["orders"]
    equity = float(first["equity"])
    fake.engine.spot_balances["USDT"] += 30_000.0  # the user's deposit, made on the exchange
    recorded = _trimtab(tmp_path, "deposit", "30000", *STATE, "--note", "wire")
    assert recorded.returncode == 0, recorded.stderr

    steered = _cycle(tmp_path)
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

    after = _cycle(tmp_path)  # steered once
    assert after["orders"] == [] and after["triggered"] is False
