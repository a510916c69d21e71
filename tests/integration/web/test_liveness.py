"""The dashboard, /api/state and /metrics say whether a loop is alive: running, stopped or stale."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trimtab.storage import open_store
from trimtab.storage.heartbeat import Heartbeat
from trimtab.testing.cli import run_cli

from .conftest import Served, client_for

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _liveness_of_page(served: Served) -> tuple[str, str]:
    html = served.client.get("/").text
    match = re.search(r'id="liveness" data-state="(\w+)"', html)
    assert match is not None
    reason = re.search(r'id="liveness-reason">([^<]*)<', html)
    assert reason is not None
    return match.group(1), reason.group(1)


def test_a_journal_no_run_ever_wrote_is_stopped_everywhere(served: Served) -> None:
    state = served.client.get("/api/state").json()
    assert state["liveness"]["state"] == "stopped"
    assert state["mode"] == "trading"  # the brake is off, but nothing runs: not "running"
    assert _liveness_of_page(served) == ("stopped", "no trimtab run has written to this journal")
    metrics = served.client.get("/metrics").text
    assert 'trimtab_loop_state{state="stopped"} 1.0' in metrics
    assert 'trimtab_loop_state{state="running"} 0.0' in metrics
    assert "trimtab_cycle_duration_seconds_count 0" in metrics
    html = served.client.get("/").text
    assert 'class="value mode mode-idle"' in html  # not green while no loop runs


def test_a_beating_run_is_running_and_a_silent_one_stale(served: Served) -> None:
    beat = Heartbeat(served.store, venue="paper", interval_s=60.0, planned_cycles=None).begin()
    beat.beat(7, 0.8)
    state = served.client.get("/api/state").json()["liveness"]
    assert state["state"] == "running"
    assert state["run"]["last_cycle"] == 7 and state["run"]["pid"] == os.getpid()
    assert state["reason"].startswith("last cycle ") and state["reason"].endswith("ago, expected every 60 s")
    assert _liveness_of_page(served)[0] == "running"
    metrics = served.client.get("/metrics").text
    assert 'trimtab_loop_state{state="running"} 1.0' in metrics
    assert "trimtab_cycle_seconds 0.8" in metrics
    assert 'trimtab_cycle_duration_seconds_bucket{le="0.5"} 0' in metrics
    assert 'trimtab_cycle_duration_seconds_bucket{le="1.0"} 1' in metrics
    assert 'trimtab_cycle_duration_seconds_bucket{le="+Inf"} 1' in metrics
    assert "trimtab_cycle_interval_seconds 60.0" in metrics
    # A run killed outright: its row never ends, its heartbeat ages.
    old = datetime.now(UTC) - timedelta(minutes=10)
    Heartbeat(served.store, venue="paper", interval_s=60.0, planned_cycles=None, clock=lambda: old).begin()
    assert served.client.get("/api/state").json()["liveness"]["state"] == "stale"
    state_on_page, reason = _liveness_of_page(served)
    assert state_on_page == "stale"
    assert "no heartbeat for more than 2 min 30 s" in reason
    assert 'trimtab_loop_state{state="stale"} 1.0' in served.client.get("/metrics").text


def test_a_once_run_is_stopped_with_its_reason(tmp_path: Path) -> None:
    for name in ("policy.toml", "portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB")}
    done = run_cli(
        "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--market", "market.json", "--once",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    store = open_store(f"sqlite:///{tmp_path / 'trimtab-paper.db'}")
    try:
        client, _ = client_for(store)
        alive = client.get("/api/state").json()["liveness"]
        assert alive["state"] == "stopped"
        assert alive["reason"].endswith("ago: one cycle (--once) done")
        assert alive["run"]["cycles"] == 1 and alive["run"]["planned_cycles"] == 1
        assert "trimtab_cycle_duration_seconds_count 1" in client.get("/metrics").text
    finally:
        store.close()
    status = run_cli("status", cwd=tmp_path, env=env)
    assert status.stdout.splitlines()[0].startswith("loop: stopped: the run ended ")


def test_a_looping_process_is_running_until_sigterm_stops_it(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    for name in ("policy.toml", "portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB")}
    args = ["--policy", "policy.toml", "--portfolio", "portfolio.toml", "--market", "market.json", "--interval", "30"]
    process = subprocess.Popen(
        [sys.executable, "-m", "trimtab", "run", *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("cycle 1 ")  # the first cycle is done; now it waits 30 s
        status = run_cli("status", "--format", "json", cwd=tmp_path, env=env)
        assert '"state": "running"' in status.stdout
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    store = open_store(f"sqlite:///{tmp_path / 'trimtab-paper.db'}")
    try:
        client, _ = client_for(store)
        alive = client.get("/api/state").json()["liveness"]
        assert alive["state"] == "stopped"
        assert alive["run"]["end_reason"] == "stopped by SIGTERM after 1 cycle(s)"
    finally:
        store.close()
