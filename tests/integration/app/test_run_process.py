"""A real ``trimtab run`` process: one instance per journal, and a clean stop on SIGTERM or SIGINT."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.testing.fake_exchange.server import FakeExchange

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
TO_TARGET = ROOT / "tests" / "data" / "policy-to-target.toml"
"""The example policy traded to target: four legs to interrupt, and every class at target after them."""
STATE = "sqlite:///journal.db"
LIVE_POLICY = """\
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band = 0.05
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.5
band = 0.05
cash = true
"""
LIVE_PORTFOLIO = (
    'base_currency = "USDT"\n[[spot]]\nasset = "BTC"\namount = 1.0\n[[spot]]\nasset = "USDT"\namount = 10000.0\n'
)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    shutil.copy(TO_TARGET, tmp_path / "policy.toml")
    (tmp_path / "execution.toml").write_text('algo = "market"\npoll_interval_s = 0.01\n')
    return tmp_path


def _args(*extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "trimtab",
        "run",
        "--policy",
        "policy.toml",
        "--portfolio",
        "portfolio.toml",
        "--market",
        "market.json",
        "--state",
        STATE,
        "--format",
        "json",
        *extra,
    ]


class Running:
    """A ``trimtab run`` in the background (on the example --market, or ``command``); stdout read line by line."""

    def __init__(self, cwd: Path, *extra: str, command: list[str] | None = None) -> None:
        self.process = subprocess.Popen(
            command or _args(*extra), cwd=cwd, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def next_line(self) -> dict[str, object]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, (
            f"the run ended early: {self.process.wait(60)} {self.process.stderr.read() if self.process.stderr else ''}"
        )
        parsed: dict[str, object] = json.loads(line)
        return parsed

    def stop(self, signum: int) -> tuple[int, str, str]:
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=60)
        return self.process.returncode, out, err


@pytest.fixture
def running(folder: Path) -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait(30)


def _journal(folder: Path) -> Journal:
    return Journal(open_store(f"sqlite:///{folder / 'journal.db'}"))


def test_a_second_run_on_the_same_journal_exits_at_once_and_sends_nothing(folder: Path, running: list[Running]) -> None:
    first = Running(folder, "--execution", "execution.toml", "--interval", "3600")
    running.append(first)
    cycle = first.next_line()
    assert cycle["cycle"] == 1 and cycle["orders"]
    orders_before = len(_journal(folder).orders())

    started = time.monotonic()
    second = subprocess.run(
        _args("--execution", "execution.toml", "--once"), cwd=folder, env=_env(), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 30  # it does not wait for the lock
    assert second.returncode == 3  # the journal is held by another run
    assert second.stdout == ""  # no cycle ran
    [message] = second.stderr.strip().splitlines()
    assert f"another trimtab run (process {first.process.pid}) holds sqlite:///journal.db" in message
    assert "stop it first" in message
    journal = _journal(folder)
    assert len(journal.orders()) == orders_before and journal.last_cycle() == 1

    status, out, err = first.stop(signal.SIGTERM)
    assert status == 0, err
    assert out == "" and "stopped by SIGTERM after 1 cycle(s)" in err

    # The lock went with the first run: the account can be run again, and is already on target.
    again = subprocess.run(
        _args("--execution", "execution.toml", "--once"), cwd=folder, env=_env(), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    line = json.loads(again.stdout)
    assert line["cycle"] == 2 and line["orders"] == [] and line["triggered"] is False


def test_sigint_between_cycles_exits_130_and_releases_the_lock(folder: Path, running: list[Running]) -> None:
    run = Running(folder, "--execution", "execution.toml", "--interval", "3600", "--dry-run")
    running.append(run)
    assert run.next_line()["cycle"] == 1
    status, _, err = run.stop(signal.SIGINT)
    assert status == 130 and "stopped by SIGINT" in err
    assert "Traceback" not in err
    follow = subprocess.run(
        _args("--execution", "execution.toml", "--once"), cwd=folder, env=_env(), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert follow.returncode == 0, follow.stderr


def test_sigterm_mid_plan_sends_no_further_order_and_leaves_a_consistent_journal(
    tmp_path: Path, running: list[Running]
) -> None:
    # Paper on the local fake Binance's live prices, where waits within a cycle are the wall clock's (on a fixed
    # snapshot they pass at once): the one leg, selling 0.41666 BTC at 60,000 down to the 50 % target, is cut into
    # 10 slices 0.5 s apart, so the signal arrives while the plan is being executed.
    (tmp_path / "policy.toml").write_text(LIVE_POLICY)
    (tmp_path / "portfolio.toml").write_text(LIVE_PORTFOLIO)
    (tmp_path / "slow.toml").write_text(
        'algo = "market"\npoll_interval_s = 0.01\ntwap_threshold = 100.0\ntwap_slice_notional = 100.0\n'
        "twap_max_slices = 10\ntwap_window_s = 5.0\n"
    )
    (tmp_path / "fast.toml").write_text('algo = "market"\npoll_interval_s = 0.01\n')
    with FakeExchange() as fake:
        fake.set_price("BTC/USDT", 60_000.0)
        (tmp_path / "ccxt.json").write_text(
            json.dumps({"urls": fake.ccxt_urls("binance"), "enableRateLimit": False, "rateLimit": 0})
        )
        args = [
            sys.executable, "-m", "trimtab", "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml",
            "--prices", "binance", "--venue-config", "ccxt.json", "--state", STATE, "--format", "json",
        ]  # fmt: skip
        run = Running(tmp_path, command=[*args, "--execution", "slow.toml", "--interval", "3600"])
        running.append(run)
        assert run.process.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = run.process.stderr.readline()
            assert line, "the run ended before its first order"
            if '"trimtab.orders"' in line and "filled" in line:
                break  # the first slice is done; the others wait their turn
        status, out, err = run.stop(signal.SIGTERM)
        assert status == 0, err
        [cycle] = [json.loads(text) for text in out.splitlines()]
        assert cycle["cycle"] == 1 and cycle["triggered"] is True
        assert 1 <= len(cycle["orders"]) < 10  # the plan stopped part-way (one leg of 10 slices)
        assert any("stopping: SIGTERM received" in reason for reason in cycle["decisions"])

        journal = _journal(tmp_path)
        orders = journal.orders()
        assert [o.client_order_id for o in orders] == [o["client_order_id"] for o in cycle["orders"]]
        assert all(o.status == "filled" for o in orders)  # nothing pending, ambiguous or half written
        assert journal.last_snapshot() is not None and journal.last_cycle() == 1

        # The restart finishes the job from the holdings as they are.
        again = subprocess.run(
            [*args, "--execution", "fast.toml", "--once"], cwd=tmp_path, env=_env(), capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
    assert again.returncode == 0, again.stderr
    follow = json.loads(again.stdout)
    assert follow["cycle"] == 2 and follow["orders"]
    final = json.loads(
        subprocess.run(
            [sys.executable, "-m", "trimtab", "status", "--state", STATE, "--format", "json"],
            cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60, check=True,
        ).stdout
    )  # fmt: skip
    assert not any(c["breached"] for c in final["classes"]) and final["open_orders"] == []


def test_a_replay_stopped_by_sigterm_goes_on_from_the_next_bar(tmp_path: Path, running: list[Running]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for asset in ("BTC", "ETH", "BNB"):
        shutil.copy(ROOT / "data" / "market" / f"spot_{asset}-USDT_1h.csv.gz", data)
    policy = (EXAMPLES / "policy.toml").read_text()
    policy = (
        policy.replace('assets = ["SOL", "BNB"]', 'assets = ["BNB"]')
        .replace("weights = { SOL = 0.5, BNB = 0.5 }", "")
        .replace('assets = ["USDT", "USDC"]', 'assets = ["USDT"]')
    )
    (tmp_path / "policy.toml").write_text(policy)
    (tmp_path / "portfolio.toml").write_text('base_currency = "USDT"\n[[spot]]\nasset = "USDT"\namount = 50000.0\n')
    args = [
        sys.executable, "-m", "trimtab", "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml",
        "--data", "data", "--at", "2025-06-01T00:00:00Z", "--state", STATE, "--format", "json",
    ]  # fmt: skip
    run = Running(tmp_path, command=args)
    running.append(run)
    first = run.next_line()
    assert first["timestamp"] == "2025-06-01T01:00:00Z"
    status, out, err = run.stop(signal.SIGTERM)
    assert status == 0, err
    lines = [first] + [json.loads(text) for text in out.splitlines()]
    assert [line["cycle"] for line in lines] == list(range(1, len(lines) + 1))
    last = datetime.fromisoformat(str(lines[-1]["timestamp"]).replace("Z", "+00:00"))
    more = subprocess.run(
        [*args, "--once"], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert more.returncode == 0, more.stderr
    following = json.loads(more.stdout)
    assert following["cycle"] == len(lines) + 1
    assert following["timestamp"] == (last + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
