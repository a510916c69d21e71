"""``trimtab deposit`` / ``withdraw`` on a paper run, end to end, and ``POST /api/flows`` on the dashboard.

The paper book sits on its targets (BTC 40 %, ETH 30 %, SOL 10 %, USDT 20 % of 100 000): the first cycle
trades nothing. A deposit of 20 000 makes the equity 120 000; the shortfalls are BTC 48 000 - 40 000 = 8 000,
ETH 36 000 - 30 000 = 6 000, SOL 12 000 - 10 000 = 2 000 and USDT 24 000 - 20 000 = 4 000 (the cash class's
share stays in cash), so the next cycle buys 0.16 BTC, 2.4 ETH and 20 SOL, and nothing after that.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.testing.cli import run_cli

POLICY = """\
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.4
band = 0.05
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.3
band = 0.05
[[class]]
name = "SOL"
assets = ["SOL"]
target = 0.1
band = 0.05
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.2
band = 0.05
cash = true
[rebalance]
min_notional = 1.0
[costs]
taker_fee = 0.001
slippage_bps = 0.0
"""
PORTFOLIO = """\
base_currency = "USDT"
[[spot]]
asset = "BTC"
amount = 0.8
[[spot]]
asset = "ETH"
amount = 12.0
[[spot]]
asset = "SOL"
amount = 100.0
[[spot]]
asset = "USDT"
amount = 20000.0
"""
MARKET = {"timestamp": "2026-11-21T00:00:00Z", "prices": {"BTC": 50_000.0, "ETH": 2_500.0, "SOL": 100.0}}
STATE = "sqlite:///paper.db"


def _trimtab(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
    return run_cli(*args, cwd=folder, env=env)


def _cycle(folder: Path) -> dict[str, object]:
    done = _trimtab(
        folder,
        "run",
        "--policy",
        "policy.toml",
        "--portfolio",
        "portfolio.toml",
        "--market",
        "market.json",
        "--state",
        STATE,
        "--execution",
        "execution.toml",
        "--once",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(text) for text in done.stdout.splitlines()]
    return line


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "portfolio.toml").write_text(PORTFOLIO)
    (tmp_path / "market.json").write_text(json.dumps(MARKET))
    (tmp_path / "execution.toml").write_text('algo = "market"\n')
    return tmp_path


def test_a_deposit_on_a_paper_run_credits_the_account_and_buys_only_the_shortfalls(folder: Path) -> None:
    early = _trimtab(folder, "deposit", "20000", "--state", STATE)
    assert early.returncode == 2 and "no journal" in early.stderr  # nothing to record into yet
    first = _cycle(folder)
    assert first["triggered"] is False and first["orders"] == []

    done = _trimtab(folder, "deposit", "20000", "--state", STATE, "--reference", "wire-1", "--format", "json")
    assert done.returncode == 0, done.stderr
    flow = json.loads(done.stdout)
    assert flow["amount"] == 20_000.0 and flow["asset"] == "USDT" and flow["new"] is True
    again = _trimtab(folder, "deposit", "20000", "--state", STATE, "--reference", "wire-1")
    assert again.returncode == 0 and "nothing added" in again.stdout  # a retried request adds nothing
    status = json.loads(_trimtab(folder, "status", "--state", STATE, "--format", "json").stdout)
    assert status["pending_flow"] == 20_000.0

    steered = _cycle(folder)
    assert steered["triggered"] is True
    assert steered["equity"] == pytest.approx(120_000.0)  # the paper account holds the deposit
    orders = {o["symbol"]: o for o in steered["orders"]}  # type: ignore[attr-defined]
    assert set(orders) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    assert all(o["side"] == "buy" and o["status"] == "filled" for o in orders.values())
    assert orders["BTC/USDT"]["amount"] == pytest.approx(0.16)
    assert orders["ETH/USDT"]["amount"] == pytest.approx(2.4)
    assert orders["SOL/USDT"]["amount"] == pytest.approx(20.0)
    assert any("deposit of 20000.00 USDT" in d for d in steered["decisions"])  # type: ignore[attr-defined]
    store = open_store(f"sqlite:///{folder / 'paper.db'}")
    try:
        valued = Journal(store).last_snapshot()
    finally:
        store.close()
    assert valued is not None and valued["payload"]["after_trades"] is True
    assert valued["payload"]["triggered"] is False  # the book after the steered buys, not the flow again

    status = json.loads(_trimtab(folder, "status", "--state", STATE, "--format", "json").stdout)
    assert status["pending_flow"] == 0.0
    after = _cycle(folder)  # the flow is steered once
    assert after["triggered"] is False and after["orders"] == []
    assert after["equity"] == pytest.approx(120_000.0 - 16.0)  # less the buys' 0.1 % fee


def test_a_withdrawal_sells_the_overweights_and_bad_amounts_exit_2(folder: Path) -> None:
    _cycle(folder)
    assert _trimtab(folder, "withdraw", "0", "--state", STATE).returncode == 2
    bad = _trimtab(folder, "withdraw", "nan", "--state", STATE)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert _trimtab(folder, "withdraw", "10000", "--state", STATE).returncode == 0
    steered = _cycle(folder)
    # Equity 90 000 after the withdrawal; excesses: BTC 40 000 - 36 000 = 4 000, ETH 30 000 - 27 000 = 3 000,
    # SOL 10 000 - 9 000 = 1 000, USDT (20 000 before) - 18 000 = 2 000: 10 000 in all, each sold in full.
    orders = {o["symbol"]: o for o in steered["orders"]}  # type: ignore[attr-defined]
    assert all(o["side"] == "sell" for o in orders.values())
    assert orders["BTC/USDT"]["amount"] == pytest.approx(0.08)
    assert orders["ETH/USDT"]["amount"] == pytest.approx(1.2)
    assert orders["SOL/USDT"]["amount"] == pytest.approx(10.0)
