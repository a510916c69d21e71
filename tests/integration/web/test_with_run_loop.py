"""The dashboard with the real run loop: a plan left pending by ``run --approve`` is approved over HTTP
and executed by the next cycle; the kill switch from the dashboard stops the loop's orders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from trimtab.storage import open_store
from trimtab.storage.journal import Journal

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def run_once(state: str, cwd: Path, *extra: str) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable, "-m", "trimtab", "run", "--policy", str(EXAMPLES / "policy.toml"),
            "--portfolio", str(EXAMPLES / "portfolio.toml"), "--market", str(EXAMPLES / "market.json"),
            "--state", state, "--once", "--format", "json", *extra,
        ],
        cwd=cwd, capture_output=True, text=True, timeout=180, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return line


def test_a_pending_plan_approved_on_the_dashboard_runs_on_the_next_cycle(tmp_path: Path, dashboard: Any) -> None:
    state = f"sqlite:///{tmp_path / 'trimtab-paper.db'}"
    first = run_once(state, tmp_path, "--approve")
    assert first["triggered"] is True and first["orders"] == []  # no terminal: the plan waits
    store = open_store(state)
    client, token = dashboard(store)
    plan = client.get("/api/plan").json()
    assert plan["status"] == "pending" and plan["trades"]
    page = client.get("/").text
    assert 'id="approve"' in page
    approved = client.post(f"/api/plans/{plan['id']}/approve", headers={"X-Trimtab-Token": token})
    assert approved.json() == {"id": plan["id"], "status": "approved"}
    (tmp_path / "execution.toml").write_text("chase_interval_s = 0.05\npoll_interval_s = 0.01\n")
    second = run_once(state, tmp_path, "--approve", "--execution", str(tmp_path / "execution.toml"))
    # On a snapshot that stands still the chased limits are cancelled unfilled; each leg's market order fills it.
    filled = [order for order in second["orders"] if order["filled"] > 0]
    assert filled and all(order["status"] == "filled" for order in filled)
    assert {order["symbol"] for order in filled} == {trade["symbol"] for trade in plan["trades"]}
    assert len(client.get("/api/fills").json()) == len(filled)
    store.close()


def test_the_kill_switch_from_the_dashboard_stops_the_loops_orders(tmp_path: Path, dashboard: Any) -> None:
    state = f"sqlite:///{tmp_path / 'trimtab-paper.db'}"
    store = open_store(state)
    client, token = dashboard(store)
    killed = client.post("/api/actions/kill", headers={"X-Trimtab-Token": token}, json={"reason": "drill"})
    assert killed.json()["mode"] == "halted"
    cycle = run_once(state, tmp_path)
    assert cycle["triggered"] is True
    assert cycle["halted"] is True and cycle["orders"] == []
    reasons = [d["reason"] for d in Journal(store).decisions(["halt"])]
    assert any("drill" in reason for reason in reasons)
    valuation = client.get("/api/valuation").json()
    assert valuation["halted"] is True and valuation["trading"]["reason"] == "drill"
    store.close()
