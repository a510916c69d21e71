"""Crash tests: the process is SIGKILLed at named points of a plan; the restart reconciles and finishes it.

After every scenario: no order was executed twice (each symbol traded about what the first plan asked, not
twice that), every venue order with trimtab's prefix has a journal row, the journal's fills equal the venue's
per order, nothing is left open, and every class sits at its target.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.storage.state import StateStore
from trimtab.venues.paper import PAPER_ACCOUNT_KEY

POLICY = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.40
band = 0.03
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.30
band = 0.03
[[class]]
name = "SOL"
assets = ["SOL"]
target = 0.15
band = 0.03
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.15
band = 0.03
cash = true
[trigger]
kind = "threshold"
[rebalance]
scope = "all"
to = "target"
instrument = "spot"
min_notional = 10.0
[costs]
taker_fee = 0.0010
maker_fee = 0.0002
slippage_bps = 5.0
"""
MARKET = {
    "timestamp": "2026-11-21T00:00:00Z",
    "prices": {"BTC": 60000.0, "ETH": 3000.0, "SOL": 150.0, "USDT": 1.0},
    "markets": {
        "BTC/USDT": {"amount_step": 0.00001, "min_notional": 5.0},
        "ETH/USDT": {"amount_step": 0.0001, "min_notional": 5.0},
        "SOL/USDT": {"amount_step": 0.001, "min_notional": 5.0},
    },
}
EXECUTION = """
algo = "limit"
chase_count = 1
chase_interval_s = 0.05
poll_interval_s = 0.01
final_wait_s = 2.0
resolve_attempts = 6
resolve_backoff_s = 0.02
lost_after_misses = 3
lost_after_s = 0.1
"""


def _setup(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    # A drifted portfolio: BTC heavy, SOL light, so the plan sells BTC and buys the others.
    holdings = {"BTC": rng.uniform(0.9, 1.1), "ETH": rng.uniform(6.0, 9.0), "SOL": rng.uniform(20.0, 60.0)}
    lines = ['base_currency = "USDT"']
    for asset, amount in {**holdings, "USDT": rng.uniform(8000.0, 15000.0)}.items():
        lines += ["[[spot]]", f'asset = "{asset}"', f"amount = {amount:.6f}"]
    (tmp_path / "portfolio.toml").write_text("\n".join(lines) + "\n")
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "market.json").write_text(json.dumps(MARKET))
    (tmp_path / "execution.toml").write_text(EXECUTION)


RUN_ARGS = [
    "run",
    "--policy",
    "policy.toml",
    "--portfolio",
    "portfolio.toml",
    "--market",
    "market.json",
    "--execution",
    "execution.toml",
    "--state",
    "sqlite:///journal.db",
    "--format",
    "json",
    "--interval",
    "0",
]


def _crash(tmp_path: Path, point: str) -> subprocess.CompletedProcess[str]:
    """Run one cycle in a child process that kills itself at ``point``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
    env["TRIMTAB_CRASH_AT"] = point
    args = [sys.executable, "-m", "trimtab", *RUN_ARGS, "--once"]
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


def _restart(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Restart in this process (a fresh loop on the same journal) for two cycles; the JSON lines it printed."""
    from trimtab.cli.main import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIMTAB_CRASH_AT", raising=False)
    capsys.readouterr()
    app(args=[*RUN_ARGS, "--cycles", "2"], standalone_mode=False)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _check_invariants(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'journal.db'}")
    journal = Journal(store)
    account = StateStore(store).get(PAPER_ACCOUNT_KEY)
    venue_orders: dict[str, Any] = account["orders"]
    journal_orders = {o.client_order_id: o for o in journal.orders()}
    # G2: every venue order carrying the prefix is journaled.
    assert set(venue_orders) <= set(journal_orders)
    # G3: fills per order agree, each trade id once.
    for cid, order in journal_orders.items():
        venue_trades = [t for t in account["trades"] if t["client_order_id"] == cid]
        journal_fills = journal.fills(cid)
        assert sorted(f.trade_id for f in journal_fills) == sorted(t["trade_id"] for t in venue_trades)
        assert order.filled == pytest.approx(sum(t["amount"] for t in venue_trades), abs=1e-12)
        if cid in venue_orders:
            assert order.filled == pytest.approx(venue_orders[cid]["filled"], abs=1e-12)
    # Nothing left open, on either side.
    assert [o for o in journal_orders.values() if o.is_open] == []
    assert [c for c, o in venue_orders.items() if o["status"] in ("new", "open", "partially_filled")] == []
    # G1 in effect: each symbol traded about what the first plan asked, never twice that.
    first_plan = journal.plans()[0]["payload"]
    for trade in first_plan["trades"]:
        traded = sum(
            t["amount"] for t in account["trades"] if t["symbol"] == trade["symbol"] and t["side"] == trade["side"]
        )
        assert traded == pytest.approx(trade["amount"], rel=0.02), trade["symbol"]
    # The portfolio reached its targets.
    snapshot = journal.last_snapshot()
    assert snapshot is not None
    for c in snapshot["payload"]["classes"]:
        assert c["weight"] == pytest.approx(c["target"], abs=0.003), c["name"]
    store.close()


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("point", ["after_intent", "after_accept", "between_legs", "after_fill"])
def test_a_run_killed_mid_plan_recovers_without_duplicates(
    tmp_path: Path, point: str, seed: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(tmp_path, seed)
    occurrence = 1 + seed % 2  # the first or the second time the point is reached
    crashed = _crash(tmp_path, f"{point}:{occurrence}")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    lines = _restart(tmp_path, capsys, monkeypatch)
    assert lines[-1]["triggered"] is False and lines[-1]["orders"] == []
    assert all(line["halted"] is False for line in lines)
    _check_invariants(tmp_path)
