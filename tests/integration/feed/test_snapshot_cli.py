"""``trimtab snapshot`` against the local fake Binance (the real ccxt client), then ``trimtab plan`` on its file."""

from __future__ import annotations

import json
from pathlib import Path

from trimtab.testing.cli import run_cli
from trimtab.testing.fake_exchange.server import FakeExchange

POLICY = """\
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.4
band = 0.05
hedge = "BTC/USDT:USDT"
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.3
band = 0.05
hedge = "ETH/USDT:USDT"
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.3
band = 0.05
cash = true
"""
PORTFOLIO = """\
base_currency = "USDT"
[[spot]]
asset = "BTC"
amount = 1.0
[[spot]]
asset = "ETH"
amount = 10.0
[[spot]]
asset = "USDT"
amount = 30000.0
"""


def test_a_snapshot_from_public_endpoints_feeds_plan(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "portfolio.toml").write_text(PORTFOLIO)
    with FakeExchange() as fake:
        fake.set_price("BTC/USDT", 61_234.5)
        fake.set_price("ETH/USDT", 3_050.0)
        fake.set_price("BTC/USDT:USDT", 61_300.0)
        (tmp_path / "ccxt.json").write_text(json.dumps({"urls": fake.ccxt_urls("binance"), "enableRateLimit": False}))
        done = run_cli(
            "snapshot", "--policy", "policy.toml", "--venue-config", "ccxt.json", "--output", "market.json",
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert all(request.api_key is None for request in fake.requests)  # public endpoints only: no key sent
    snapshot = json.loads((tmp_path / "market.json").read_text())
    assert json.loads(done.stdout) == snapshot
    assert snapshot["prices"] == {"USDT": 1.0, "BTC": 61_234.5, "ETH": 3_050.0}
    assert snapshot["derivatives"]["BTC/USDT:USDT"]["mark"] == 61_300.0
    assert snapshot["derivatives"]["ETH/USDT:USDT"]["funding_rate"] == -0.00005  # the fake's ETH funding rate
    assert snapshot["markets"]["BTC/USDT"]["amount_step"] == 0.00001
    assert snapshot["markets"]["BTC/USDT:USDT"]["contract_size"] == 1.0
    plan = run_cli(
        "plan", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--market", "market.json",
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    # 1 BTC at 61,234.5 + 10 ETH at 3,050 + 30,000 USDT, by hand
    assert json.loads(plan.stdout)["equity"] == 61_234.5 + 30_500.0 + 30_000.0


def test_an_asset_the_exchange_does_not_list_is_named(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(POLICY.replace('assets = ["ETH"]', 'assets = ["DOGE"]').replace(
        'hedge = "ETH/USDT:USDT"', ""
    ))  # fmt: skip
    with FakeExchange() as fake:
        (tmp_path / "ccxt.json").write_text(json.dumps({"urls": fake.ccxt_urls("binance"), "enableRateLimit": False}))
        done = run_cli(
            "snapshot", "--policy", "policy.toml", "--venue-config", "ccxt.json", "--output", "market.json",
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "--venue: binance lists no DOGE/USDT market for DOGE\n"
    assert not (tmp_path / "market.json").exists()
