"""Journal faults a run survives: a PostgreSQL connection cut (through a proxy this test starts on 127.0.0.1)
pauses the cycle with one clear line and the run goes on once it is back; a first start killed halfway
through creating the journal leaves nothing that blocks the next one; a journal deleted under a running
process stops its trading and says so."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.testing.tcp_proxy import TcpProxy

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("policy.toml", "portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    (tmp_path / "execution.toml").write_text('algo = "market"\npoll_interval_s = 0.01\nlock_lease_s = 5\n')
    return tmp_path


def _command(state: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "trimtab", "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml",
        "--market", "market.json", "--execution", "execution.toml", "--state", state, "--format", "json", *extra,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = parts.netloc.split("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{port}"))


@pytest.mark.postgres
def test_a_cut_connection_pauses_the_cycle_and_the_run_goes_on(folder: Path, pg_url: str) -> None:
    with TcpProxy("127.0.0.1", 5432) as proxy:
        run = subprocess.Popen(
            _command(_via(pg_url, proxy.port), "--interval", "0.2"), cwd=folder, env=_env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert run.stdout is not None
            assert json.loads(run.stdout.readline())["cycle"] == 1
            proxy.cut()
            time.sleep(3.0)  # several cycles' worth of a dead network
            proxy.restore()
            cycles = [json.loads(run.stdout.readline())["cycle"] for _ in range(2)]
            assert run.poll() is None  # still running
            assert cycles[-1] > 1
        finally:
            run.send_signal(signal.SIGTERM)
            _, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    faults = [json.loads(line) for line in err.splitlines() if "journal fault" in line]
    assert faults, err
    message = faults[0]["message"]
    assert "cannot be reached" in message and "cycle paused, next attempt in" in message
    assert "\n" not in message and "SELECT" not in message and "INSERT" not in message
    assert "internal error" not in err and "Traceback" not in err
    journal = Journal(open_store(pg_url))
    assert len({o.client_order_id for o in journal.orders()}) == len(journal.orders())


def test_a_first_start_killed_while_creating_the_journal_does_not_block_the_next(folder: Path) -> None:
    killed = subprocess.run(
        _command("sqlite:///journal.db", "--once"), cwd=folder, env={**_env(), "TRIMTAB_CRASH_AT": "mid_create"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = subprocess.run(
        _command("sqlite:///journal.db", "--once"), cwd=folder, env=_env(), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1])["cycle"] == 1


def test_a_journal_deleted_under_a_running_process_stops_its_trading(folder: Path) -> None:
    run = subprocess.Popen(
        _command("sqlite:///journal.db", "--interval", "0.2"), cwd=folder, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert run.stdout is not None
        json.loads(run.stdout.readline())
        for name in ("journal.db", "journal.db-wal", "journal.db-shm", "journal.db.lock"):
            (folder / name).unlink(missing_ok=True)
        _, err = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 1
    assert "trimtab: the journal file journal.db was deleted while this run was using it" in err


def test_a_refused_second_run_creates_no_journal(folder: Path) -> None:
    run = subprocess.Popen(
        _command("sqlite:///journal.db", "--interval", "5"), cwd=folder, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert run.stdout is not None
        json.loads(run.stdout.readline())
        for name in ("journal.db", "journal.db-wal", "journal.db-shm"):  # the journal deleted, its lock file kept
            (folder / name).unlink(missing_ok=True)
        second = subprocess.run(
            _command("sqlite:///journal.db", "--once"), cwd=folder, env=_env(), capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        assert second.returncode == 3 and f"another trimtab run (process {run.pid})" in second.stderr
        assert not (folder / "journal.db").exists()  # refused before opening: nothing created
    finally:
        run.kill()
        run.wait(30)
