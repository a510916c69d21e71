"""What ``trimtab serve`` reads before authentication is bounded: body size, header time; the schema is a read."""

from __future__ import annotations

import os
import re
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
from trimtab.web.limits import HEADER_TIMEOUT_S, MAX_BODY_BYTES
from trimtab.web.sample import seed_sample_journal


@contextmanager
def serving(
    tmp_path: Path, *extra: str, header_timeout_s: float | None = None
) -> Iterator[tuple[str, subprocess.Popen[str], str]]:
    """A ``trimtab serve`` on a free port: its base URL, its process and its access token.

    ``header_timeout_s`` replaces the served protocol's header time in that process (the same command line and
    protocol, only a shorter wait to prove it).
    """
    state = f"sqlite:///{tmp_path / 'trimtab-paper.db'}"
    seed_sample_journal(open_store(state))
    command = [sys.executable, "-m", "trimtab"]
    if header_timeout_s is not None:
        command = [
            sys.executable,
            "-c",
            "import trimtab.web.limits as limits; from trimtab.cli.main import main; "
            f"limits.HeaderTimeoutProtocol.header_timeout_s = {header_timeout_s!r}; main()",
        ]
    process = subprocess.Popen(
        [*command, "serve", "--state", state, "--port", "0", *extra],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        token = ""
        while True:
            line = process.stderr.readline()
            assert line, "the server did not start"
            if line.startswith("  "):
                token = line.strip()
            found = re.search(r"on (http://\S+):(\d+)/", line)
            if found:
                base = f"http://127.0.0.1:{found.group(2)}"
                _wait_until_up(base)
                yield base, process, token
                return
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/api/health", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


def _send(base: str, raw: bytes) -> socket.socket:
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(raw)
    return sock


@pytest.mark.slow
def test_an_unauthenticated_huge_body_is_refused_before_it_is_read(tmp_path: Path) -> None:
    with serving(tmp_path) as (base, process, _):
        before = _rss_kib(process.pid)
        head = (
            "POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n"
        )
        sock = _send(base, head.encode() + b"{" + b" " * 1_000_000)
        answer = sock.recv(4096).decode()
        sock.close()
        assert answer.startswith("HTTP/1.1 413"), answer
        # A chunked body (no length announced) is cut off as soon as it passes the limit.
        chunk = b" " * (MAX_BODY_BYTES + 1)
        sock = _send(
            base,
            b"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
        )
        sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        assert sock.recv(4096).decode().startswith("HTTP/1.1 413")
        sock.close()
        assert _rss_kib(process.pid) - before < 20_000  # not the 200 MB the client announced
        assert (
            httpx.post(f"{base}/api/session", json={"token": "no"}).status_code == 403
        )  # small bodies reach the check


@pytest.mark.slow
def test_a_half_sent_request_is_closed_after_the_header_time(tmp_path: Path) -> None:
    # The header time cut from its 10 s to 1 s in the served process: closed after about 1 s, not 10.
    assert HEADER_TIMEOUT_S == 10.0
    with serving(tmp_path, header_timeout_s=1.0) as (base, _, _):
        sock = _send(base, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        try:
            closed = sock.recv(1024) == b""
        except ConnectionResetError:
            closed = True
        waited = time.monotonic() - started
        sock.close()
        assert closed and 0.5 <= waited < HEADER_TIMEOUT_S - 4
        assert httpx.get(f"{base}/api/health").status_code == 200  # others are served meanwhile


@pytest.mark.slow
def test_the_schema_needs_the_token_when_the_server_is_remote(tmp_path: Path) -> None:
    with serving(tmp_path, "--allow-remote") as (base, _, token):
        assert httpx.get(f"{base}/openapi.json").status_code == 401
        answer = httpx.get(f"{base}/openapi.json", headers={"X-Trimtab-Token": token})
        assert answer.status_code == 200 and answer.json()["info"]["title"] == "trimtab"


def test_serve_refuses_a_journal_that_does_not_exist(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trimtab", "serve", "--state", "sqlite:///mistyped.db", "--port", "0"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["--state: no journal at mistyped.db"]
    assert not (tmp_path / "mistyped.db").exists()


@pytest.mark.postgres
def test_serve_refuses_a_postgres_database_without_a_journal(tmp_path: Path, pg_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trimtab", "serve", "--state", pg_url, "--port", "0"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "no trimtab journal in postgresql" in done.stderr
