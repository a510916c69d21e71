"""Two ``trimtab run`` processes never trade one account, whatever happens to the first one's database session.

The PostgreSQL sessions of a trading run are ended from another connection (``pg_terminate_backend``: what an
idle-session timeout, a pooler or a failover does): the run keeps its lease, and a second run is refused
while it lives. The lease taken away (a takeover after it lapsed): the first run stops trading at once and
says why. A killed run's lease does not block its restart.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from trimtab.storage import open_store
from trimtab.storage.journal import Journal

pytestmark = pytest.mark.postgres
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("policy.toml", "portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    (tmp_path / "execution.toml").write_text('algo = "market"\npoll_interval_s = 0.01\nlock_lease_s = 3\n')
    return tmp_path


def _named(url: str, name: str) -> str:
    """``url`` whose sessions carry ``application_name`` = ``name`` (so a test ends only its own)."""
    return f"{url}&application_name={quote(name)}"


def _start(folder: Path, state: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "trimtab", "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml",
         "--market", "market.json", "--execution", "execution.toml", "--state", state, "--format", "json",
         "--interval", "0.3", *extra],
        cwd=folder, env={k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _first_line(process: subprocess.Popen[str]) -> dict[str, object]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, process.stderr.read() if process.stderr else ""
    parsed: dict[str, object] = json.loads(line)
    return parsed


def _terminate(admin: sa.Engine, name: str) -> int:
    with admin.begin() as connection:
        ended = connection.execute(
            sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :n"),
            {"n": name},
        ).scalar_one()
    return int(ended)


def test_a_run_whose_sessions_are_terminated_keeps_the_account_and_a_lost_lease_stops_it(
    folder: Path, pg_url: str
) -> None:
    first = _start(folder, _named(pg_url, "tt-first"))
    try:
        assert len(_first_line(first)["orders"]) > 0  # type: ignore[arg-type]  # it traded
        admin = sa.create_engine(pg_url)
        assert _terminate(admin, "tt-first") >= 1  # every session the first run had open is gone
        time.sleep(0.5)
        second = subprocess.run(
            [sys.executable, "-m", "trimtab", "run", "--policy", "policy.toml", "--market", "market.json",
             "--execution", "execution.toml", "--state", _named(pg_url, "tt-second"), "--once"],
            cwd=folder, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert second.returncode == 3, second.stderr  # the journal is held by another run
        assert "another trimtab run (process" in second.stderr and str(first.pid) in second.stderr
        assert first.poll() is None  # the first run goes on: its lease was renewed on a new connection
        journal = Journal(open_store(pg_url))
        orders = len(journal.orders())
        # Its lease taken over (what a second run does once a lease lapsed): the first stops trading at once.
        with admin.begin() as connection:
            connection.execute(sa.text(f"SET search_path TO {pg_url.rsplit('%3D', 1)[1]}"))
            connection.execute(sa.text("UPDATE run_leases SET holder = 'intruder', token = token + 1, pid = 1"))
        _, err = first.communicate(timeout=30)
        assert first.returncode == 1
        assert "the run lock was taken over by process 1" in err and "internal error" not in err
        assert len(journal.orders()) == orders  # nothing sent after the lock was lost
        admin.dispose()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(30)


def test_a_killed_run_does_not_block_its_restart(folder: Path, pg_url: str) -> None:
    first = _start(folder, pg_url)
    try:
        _first_line(first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    started = time.monotonic()
    again = subprocess.run(
        [sys.executable, "-m", "trimtab", "run", "--policy", "policy.toml", "--market", "market.json",
         "--execution", "execution.toml", "--state", pg_url, "--once", "--format", "json"],
        cwd=folder, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert time.monotonic() - started < 20  # not refused, and no waiting out a stale session
    assert "its process is gone" in again.stderr
