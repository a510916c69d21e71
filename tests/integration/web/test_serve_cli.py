"""``trimtab serve`` as a user runs it: loopback by default, the token shown once, refusals on bad flags."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from trimtab.storage import open_store
from trimtab.web.sample import seed_sample_journal


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def trimtab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trimtab", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@contextmanager
def serving(state: str, port: int, cwd: Path, *extra: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "trimtab", "serve", "--state", state, "--port", str(port), *extra],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_reachable_address_is_refused_without_allow_remote(tmp_path: Path) -> None:
    result = trimtab("serve", "--state", f"sqlite:///{tmp_path / 'j.db'}", "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 2
    assert "--host: 0.0.0.0 is reachable from other machines" in result.stderr
    assert not (tmp_path / "j.db").exists()  # refused before opening anything


def test_a_missing_reports_folder_is_bad_input(tmp_path: Path) -> None:
    result = trimtab("serve", "--state", f"sqlite:///{tmp_path / 'j.db'}", "--reports", "nowhere", cwd=tmp_path)
    assert result.returncode == 2
    assert "--reports" in result.stderr


@pytest.mark.slow
def test_the_server_shows_the_token_once_and_serves_on_loopback(tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'trimtab-paper.db'}"
    seed_sample_journal(open_store(state))
    port = free_port()
    with serving(state, port, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/valuation").json()["equity"] == 102_380.0
        token = (tmp_path / "trimtab-paper.db.token").read_text().strip()
        refused = httpx.post(f"{base}/api/actions/pause", headers={"X-Trimtab-Token": "nope"})
        assert refused.status_code == 403
        paused = httpx.post(f"{base}/api/actions/pause", headers={"X-Trimtab-Token": token})
        assert paused.json()["mode"] == "paused"
        process.terminate()
        _out, first_err = process.communicate(timeout=20)
    assert token in first_err and "shown once" in first_err
    with serving(state, port, tmp_path) as process:
        assert httpx.get(f"http://127.0.0.1:{port}/api/state").json()["mode"] == "paused"
        process.terminate()
        _out, second_err = process.communicate(timeout=20)
    assert token not in second_err
    assert "trimtab-paper.db.token" in second_err
