"""``trimtab run``, ``status``, ``orders`` and ``serve`` on the paper venue, checked against the contract's words.

A replay of bundled history without ``--at`` starts at the first shared bar; each cycle prints one JSON line
with the contract's keys; the journal defaults to ``trimtab-<venue>.db`` in the working folder; ``status``
carries the ``classes`` of ``plan``; ``orders`` lists every order, newest last; ``serve`` listens on
127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
MARKET_DATA = REPO / "data" / "market"

POLICY = """\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band = 0.02

[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.3
band = 0.02

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.2
band = 0.02
cash = true

[rebalance]
instrument = "spot"
min_notional = 10.0

[costs]
taker_fee = 0.001
slippage_bps = 0.0
"""

PORTFOLIO = """\
base_currency = "USDT"

[[spot]]
asset = "USDT"
amount = 100000.0
"""

CYCLE_KEYS = {"cycle": int, "timestamp": str, "equity": float, "triggered": bool, "halted": bool, "orders": list}
ORDER_KEYS = {"client_order_id": str, "symbol": str, "side": str, "amount": float, "filled": float, "status": str}
CLASS_KEYS = {"name", "target", "lower", "upper", "weight", "net_exposure", "breached", "goal"}
JOURNAL_ORDER_KEYS = {
    "client_order_id",
    "symbol",
    "side",
    "amount",
    "filled",
    "average_price",
    "fee",
    "status",
    "venue",
    "created_at",
}


def trimtab(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=folder)


def first_shared_bar() -> datetime:
    stamps = []
    for asset in ("BTC", "ETH"):
        with gzip.open(MARKET_DATA / f"spot_{asset}-USDT_1d.csv.gz", "rt", newline="") as stream:
            stamps.append({row["timestamp"] for row in csv.DictReader(stream)})
    first = min(stamps[0] & stamps[1])
    return datetime.fromisoformat(first.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """Forty daily cycles of a paper replay from the first shared bar, in a fresh working folder."""
    folder = tmp_path_factory.mktemp("contract-run")
    (folder / "data").mkdir()
    for asset in ("BTC", "ETH"):
        name = f"spot_{asset}-USDT_1d.csv.gz"
        shutil.copy(MARKET_DATA / name, folder / "data" / name)
    (folder / "policy.toml").write_text(POLICY)
    (folder / "portfolio.toml").write_text(PORTFOLIO)
    done = trimtab(
        folder, "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--data", "data",
        "--cycles", "40", "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder, [json.loads(line) for line in done.stdout.splitlines()]


def test_each_cycle_is_one_json_line_with_the_contract_keys(replayed: tuple[Path, list[dict[str, Any]]]) -> None:
    _, lines = replayed
    assert [line["cycle"] for line in lines] == list(range(1, 41))
    for line in lines:
        for key, kind in CYCLE_KEYS.items():
            assert isinstance(line[key], kind), key
        for order in line["orders"]:
            for key, kind in ORDER_KEYS.items():
                assert isinstance(order[key], kind), key
            assert order["side"] in {"buy", "sell"}
    assert lines[0]["triggered"] is True and lines[0]["equity"] == pytest.approx(100_000.0)
    assert {order["symbol"] for order in lines[0]["orders"]} == {"BTC/USDT", "ETH/USDT"}
    assert sum(1 for line in lines if line["orders"]) >= 2  # history moved the weights out of their bands again


def test_the_replay_without_at_starts_at_the_first_shared_bar(replayed: tuple[Path, list[dict[str, Any]]]) -> None:
    _, lines = replayed
    # A daily bar's close is its open time plus a day; the cycles walk the bars one by one.
    first_close = first_shared_bar() + timedelta(days=1)
    stamps = [datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")) for line in lines]
    assert stamps[0] == first_close
    assert stamps == [first_close + timedelta(days=index) for index in range(40)]
    assert all(stamp.tzinfo == UTC for stamp in stamps)


def test_the_default_journal_is_named_after_the_venue_in_the_working_folder(
    replayed: tuple[Path, list[dict[str, Any]]],
) -> None:
    folder, _ = replayed
    assert (folder / "trimtab-paper.db").is_file()


def test_status_carries_the_plan_classes_equity_halted_and_open_orders(
    replayed: tuple[Path, list[dict[str, Any]]],
) -> None:
    folder, lines = replayed
    done = trimtab(folder, "status", "--state", "sqlite:///trimtab-paper.db", "--format", "json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert [row["name"] for row in status["classes"]] == ["BTC", "ETH", "STABLE"]
    assert all(set(row) >= CLASS_KEYS for row in status["classes"])
    assert status["halted"] is False and status["open_orders"] == []
    # Valued after the last cycle's trades, at the last cycle's prices.
    assert status["equity"] == pytest.approx(lines[-1]["equity"], rel=1e-2)
    weights = [row["weight"] for row in status["classes"]]
    assert sum(weights) == pytest.approx(1.0)


def test_orders_lists_every_order_newest_last(replayed: tuple[Path, list[dict[str, Any]]]) -> None:
    folder, lines = replayed
    done = trimtab(folder, "orders", "--state", "sqlite:///trimtab-paper.db", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    printed = [order["client_order_id"] for line in lines for order in line["orders"]]
    assert [row["client_order_id"] for row in rows] == printed
    assert all(set(row) >= JOURNAL_ORDER_KEYS for row in rows)
    assert [row["created_at"] for row in rows] == sorted(row["created_at"] for row in rows)
    assert all(row["venue"] == "paper" and row["status"] == "filled" for row in rows)


def _serving_port(server: subprocess.Popen[str]) -> int:
    """The port in the server's ``Serving ... on http://127.0.0.1:PORT/`` line (its stderr, read line by line)."""
    assert server.stderr is not None
    for line in server.stderr:
        match = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
        if match:
            return int(match.group(1))
    raise AssertionError("the server stopped before saying where it listens")


def test_serve_listens_on_loopback_by_default_and_names_the_port_it_picked(
    replayed: tuple[Path, list[dict[str, Any]]],
) -> None:
    folder, _ = replayed
    server = subprocess.Popen(
        [sys.executable, "-m", "trimtab", "serve", "--port", "0", "--token-file", "token.txt"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = _serving_port(server)
        assert port > 0
        deadline = time.monotonic() + 60.0
        health: dict[str, Any] | None = None
        while health is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
                    health = json.loads(response.read())
            except OSError:
                time.sleep(0.2)
        assert health is not None and health["status"] == "ok", "the dashboard did not answer on 127.0.0.1"
        listeners = subprocess.run(
            [sys.executable, "-c", _LISTENERS, str(port)], capture_output=True, text=True, timeout=30, check=False
        )
        if listeners.returncode == 0 and listeners.stdout.strip():
            assert listeners.stdout.split() == ["127.0.0.1"]
        # A second server on the same port is bad input: one line, exit 2.
        taken = trimtab(folder, "serve", "--port", str(port), "--token-file", "token.txt")
        assert taken.returncode == 2
        assert taken.stderr.splitlines() == [f"--port: cannot listen on 127.0.0.1:{port}: Address already in use"]
    finally:
        server.terminate()
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


# The local addresses listening on a TCP port, read from /proc (Linux); prints nothing elsewhere.
_LISTENERS = """
import socket, struct, sys
port = int(sys.argv[1])
try:
    rows = open("/proc/net/tcp").read().splitlines()[1:]
except OSError:
    sys.exit(0)
for row in rows:
    local, state = row.split()[1], row.split()[3]
    address, hex_port = local.split(":")
    if state == "0A" and int(hex_port, 16) == port:
        print(socket.inet_ntoa(struct.pack("<I", int(address, 16))))
"""
