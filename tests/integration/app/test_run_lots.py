"""Tax lots in paper runs: seeded from the portfolio's ``[[lots]]``, moved by every journaled fill, once.

ETH 30 at 100 and 1,000 USDT against ETH 25 % +/- 5: the first cycle sells about 20 ETH. Under ``hifo``
the sale takes the dearest lots first: LOSS (10 at 120), then LONG (10 at 70); GAIN (10 at 60) stays.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from trimtab.app.lots import current_lots
from trimtab.policy.config import Policy
from trimtab.storage import open_store
from trimtab.storage.lots import LotJournal
from trimtab.testing.cli import run_cli

PORTFOLIO = """\
base_currency = "USDT"

[[spot]]
asset = "ETH"
amount = 30.0

[[spot]]
asset = "USDT"
amount = 1000.0

[[lots]]
asset = "ETH"
amount = 10.0
cost = 70.0
acquired = 2024-01-01T00:00:00Z

[[lots]]
asset = "ETH"
amount = 10.0
cost = 60.0
acquired = 2026-02-01T00:00:00Z

[[lots]]
asset = "ETH"
amount = 10.0
cost = 120.0
acquired = 2026-05-01T00:00:00Z
"""

POLICY = """\
base_currency = "USDT"

[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.25
band = 0.05

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.75
band = 0.05
cash = true

[costs]
taker_fee = 0.001
slippage_bps = 0.0

[tax]
method = "hifo"
short_term_rate = 0.30
long_term_rate = 0.15
"""

MARKET = {"timestamp": "2026-11-21T00:00:00Z", "prices": {"ETH": 100.0}}
EXECUTION = 'algo = "market"\npoll_interval_s = 0.01\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "portfolio.toml").write_text(PORTFOLIO)
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "market.json").write_text(json.dumps(MARKET))
    (tmp_path / "execution.toml").write_text(EXECUTION)
    return tmp_path


def run_once(folder: Path) -> dict[str, object]:
    done = run_cli(
        "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--market", "market.json",
        "--execution", "execution.toml", "--state", "sqlite:///paper.db", "--once", "--format", "json",
        cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    line: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return line


def test_a_paper_sale_consumes_the_portfolio_lots_by_method_and_the_journal_keeps_the_rest(folder: Path) -> None:
    first = run_once(folder)
    [order] = first["orders"]  # type: ignore[misc]
    sold = order["filled"]
    # 4,000 of equity, 3,000 of ETH against a 1,000 goal: 20 ETH at 100 (no slippage).
    assert order["side"] == "sell" and sold == pytest.approx(20.0)
    store = open_store(f"sqlite:///{folder / 'paper.db'}")
    policy = Policy.model_validate_json(json.dumps({"base_currency": "USDT", "class": [
        {"name": "ETH", "assets": ["ETH"], "target": 0.25, "band": 0.05},
        {"name": "STABLE", "assets": ["USDT"], "target": 0.75, "band": 0.05, "cash": True},
    ], "tax": {"method": "hifo", "short_term_rate": 0.3, "long_term_rate": 0.15}}))  # fmt: skip
    book = current_lots(store, policy, first_time(first))
    remaining = sorted((lot.cost, lot.amount) for lot in book.of("ETH"))
    # LOSS (120) and LONG (70) are gone; GAIN (60) is whole.
    assert remaining == [(60.0, pytest.approx(10.0))]
    # A second cycle (nothing to trade) applies no fill twice.
    run_once(folder)
    again = LotJournal(store).read()
    assert again is not None
    assert sorted((lot.cost, lot.amount) for lot in again[0].of("ETH")) == remaining
    store.close()


def first_time(line: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(line["timestamp"]).replace("Z", "+00:00"))
