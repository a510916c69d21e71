"""Paper trading on live prices (``trimtab run --prices EXCHANGE``) against the local fake Binance.

The paper venue trades on its own simulated account; only the exchange's public endpoints are asked (no key
is sent, no order reaches the exchange). Figures by hand: 1 BTC at 60,000 and 10,000 USDT are 70,000 of
equity, 85.7 % BTC against a 50 % +/- 5 target, so the cycle sells BTC down to 35,000: 0.416667 BTC, floored
to the 0.00001 lot step; a market sell fills 5 bps (the default slippage) under the price and pays the 0.1 %
taker fee.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trimtab.app.live_prices import LiveFeed
from trimtab.feed.snapshot import public_exchange
from trimtab.loaders.policy import load_policy
from trimtab.testing.cli import run_cli
from trimtab.testing.fake_exchange.server import FakeExchange

POLICY = """\
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band = 0.05
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.5
band = 0.05
cash = true
"""
PORTFOLIO = """\
base_currency = "USDT"
[[spot]]
asset = "BTC"
amount = 1.0
[[spot]]
asset = "USDT"
amount = 10000.0
"""


def _cycle(folder: Path) -> dict[str, object]:
    done = run_cli(
        "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--prices", "binance",
        "--venue-config", "ccxt.json", "--execution", "execution.toml", "--once", "--format", "json",
        "--state", "sqlite:///paper.db", cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cycle: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return cycle


def test_a_paper_run_trades_at_the_exchanges_prices_of_each_cycle(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "portfolio.toml").write_text(PORTFOLIO)
    (tmp_path / "execution.toml").write_text('algo = "market"\npoll_interval_s = 0.01\n')
    with FakeExchange() as fake:
        (tmp_path / "ccxt.json").write_text(json.dumps({"urls": fake.ccxt_urls("binance"), "enableRateLimit": False}))
        fake.set_price("BTC/USDT", 60_000.0)
        first = _cycle(tmp_path)
        fake.set_price("BTC/USDT", 50_000.0)
        second = _cycle(tmp_path)
        assert all(request.api_key is None for request in fake.requests)  # public endpoints only
        assert not [r for r in fake.requests if r.method != "GET"]  # no order reached the exchange

    assert first["equity"] == pytest.approx(70_000.0, abs=1e-6)
    (order,) = first["orders"]  # type: ignore[misc]
    assert (order["side"], order["amount"], order["status"]) == ("sell", 0.41666, "filled")
    price = 60_000.0 * (1 - 0.0005)
    assert order["average_price"] == pytest.approx(price, rel=1e-12)
    assert order["fee"] == pytest.approx(0.41666 * price * 0.001, rel=1e-9)
    # The next cycle values the same account at the exchange's new price.
    cash = 10_000.0 + 0.41666 * price * (1 - 0.001)
    assert second["equity"] == pytest.approx((1.0 - 0.41666) * 50_000.0 + cash, rel=1e-9)


def test_a_resting_order_sees_only_the_prices_the_feed_observed_after_it(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(POLICY)
    moments = iter(datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=m) for m in range(10))
    with FakeExchange() as fake:
        exchange = public_exchange("binance", {"urls": fake.ccxt_urls("binance"), "enableRateLimit": False})
        feed = LiveFeed(exchange, load_policy(tmp_path / "policy.toml"), lambda: next(moments), max_age_s=0.0)
        fake.set_price("BTC/USDT", 60_000.0)
        first = feed.snapshot()
        fake.set_price("BTC/USDT", 59_000.0)
        second = feed.snapshot()
        fake.set_price("BTC/USDT", 59_500.0)
        third = feed.snapshot()
    assert first.prices["BTC"] == 60_000.0 and second.prices["BTC"] == 59_000.0
    before = first.timestamp - timedelta(seconds=1)
    assert feed.traded_range("BTC/USDT", before, third.timestamp) == (59_000.0, 60_000.0)
    # An order placed after the dip saw only 59,500: a buy limit at 59,200 has not been reached.
    assert feed.traded_range("BTC/USDT", second.timestamp, third.timestamp) == (59_500.0, 59_500.0)
    assert feed.traded_range("BTC/USDT", third.timestamp, third.timestamp) is None
    assert feed.price_at("BTC", second.timestamp) == 59_000.0
    assert feed.price_at("BTC", before) is None


def test_prices_is_refused_with_a_fixed_snapshot_and_on_a_live_venue(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "portfolio.toml").write_text(PORTFOLIO)
    (tmp_path / "market.json").write_text('{"timestamp": "2026-11-21T00:00:00Z", "prices": {"BTC": 1.0}}')
    both = run_cli(
        "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--prices", "binance",
        "--market", "market.json", "--once", cwd=tmp_path,
    )  # fmt: skip
    assert both.returncode == 2
    assert both.stderr == "--market: the paper venue needs exactly one of --market M, --data D or --prices EXCHANGE\n"
    unknown = run_cli(
        "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--prices", "nowhere", "--once",
        cwd=tmp_path,
    )  # fmt: skip
    assert unknown.returncode == 2
    assert unknown.stderr == "--prices: 'nowhere' is not a ccxt exchange id (e.g. binance)\n"
    live = run_cli("run", "--policy", "policy.toml", "--venue", "binance", "--prices", "binance", cwd=tmp_path)
    assert live.returncode == 2
    assert "--prices: is for the paper venue only" in live.stderr
    assert not list(tmp_path.glob("*.db"))
