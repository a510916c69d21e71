"""``trimtab run``, ``status``, ``orders``, ``kill`` and ``release`` end to end, as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from trimtab.testing.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DATA = ROOT / "data" / "market"
TO_TARGET = ROOT / "tests" / "data" / "policy-to-target.toml"
"""The example policy traded to target: its rebalance of the example portfolio has four legs, sells first."""
EXECUTION = 'algo = "limit"\nchase_interval_s = 0.05\npoll_interval_s = 0.01\n'


def trimtab(
    cwd: Path, *args: str, stdin: str | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
    env.update(extra_env or {})
    return run_cli(*args, cwd=cwd, env=env, stdin=stdin)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    shutil.copy(TO_TARGET, tmp_path / "policy.toml")  # four legs to order, and every class at target after them
    (tmp_path / "execution.toml").write_text(EXECUTION)
    return tmp_path


def test_the_to_target_policy_is_the_example_policy_but_for_to() -> None:
    example = tomllib.loads((EXAMPLES / "policy.toml").read_text(encoding="utf-8"))
    assert example["rebalance"]["to"] == "band-edge"
    example["rebalance"]["to"] = "target"
    assert tomllib.loads(TO_TARGET.read_text(encoding="utf-8")) == example


PAPER = [
    "run",
    "--policy",
    "policy.toml",
    "--portfolio",
    "portfolio.toml",
    "--market",
    "market.json",
    "--execution",
    "execution.toml",
    "--interval",
    "0",
    "--format",
    "json",
]


CANARY = {"TRIMTAB_API_KEY": "CANARY-live-key-0xdeadbeef", "TRIMTAB_API_SECRET": "CANARY-live-secret-0xfeedface"}


def test_one_paper_cycle_prints_the_contract_line_and_status_and_orders_agree(folder: Path) -> None:
    done = trimtab(folder, *PAPER, "--once", extra_env=CANARY)  # real keys in the environment: paper ignores them
    assert done.returncode == 0, done.stderr
    for secret in CANARY.values():
        assert secret not in done.stdout + done.stderr
        for stored in folder.glob("trimtab-paper.db*"):  # the database and its write-ahead log
            assert secret.encode() not in stored.read_bytes()
    [line] = [json.loads(text) for text in done.stdout.splitlines()]
    assert {"cycle", "timestamp", "equity", "triggered", "halted", "orders"} <= set(line)
    assert line["cycle"] == 1 and line["triggered"] is True and line["halted"] is False
    assert line["equity"] == pytest.approx(100_000.0)
    assert line["orders"] and all(
        {"client_order_id", "symbol", "side", "amount", "filled", "status"} <= set(o) for o in line["orders"]
    )
    assert all(o["client_order_id"].startswith("tt-") for o in line["orders"])
    # A snapshot's price stands still, so no limit at the touch is traded through: each leg's chased limits are
    # cancelled unfilled and its market fallback fills it (paper fills are never better than the market).
    filled = [o for o in line["orders"] if o["filled"] > 0]
    assert len(filled) == 4 and all(o["status"] == "filled" for o in filled)
    assert all(o["status"] == "canceled" and o["filled"] == 0 for o in line["orders"] if o not in filled)
    assert line["orders"][0]["side"] == "sell"  # sells go first
    assert (folder / "trimtab-paper.db").exists()  # the default journal, in the working folder

    status = json.loads(trimtab(folder, "status", "--state", "sqlite:///trimtab-paper.db", "--format", "json").stdout)
    # The status is the valuation after the cycle's trades: every class back inside its band.
    assert status["equity"] == pytest.approx(100_000.0, rel=1e-3) and status["halted"] is False
    assert not any(c["breached"] for c in status["classes"])
    assert status["open_orders"] == []
    assert {c["name"] for c in status["classes"]} == {"BTC", "ETH", "ALTS", "STABLE"}
    assert {"target", "lower", "upper", "weight", "breached", "goal"} <= set(status["classes"][0])

    orders = json.loads(trimtab(folder, "orders", "--state", "sqlite:///trimtab-paper.db", "--format", "json").stdout)
    assert [o["client_order_id"] for o in orders] == [o["client_order_id"] for o in line["orders"]]
    for row in orders:
        assert {
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
        } <= set(row)
        assert row["venue"] == "paper"
        assert (row["fee"] > 0 and row["average_price"] > 0) if row["filled"] > 0 else row["status"] == "canceled"
    assert [o["created_at"] for o in orders] == sorted(o["created_at"] for o in orders)  # newest last

    again = trimtab(folder, *PAPER, "--once")  # the second start ignores --portfolio: the account is kept
    second = json.loads(again.stdout)
    assert second["cycle"] == 2 and second["triggered"] is False and second["orders"] == []


def test_kill_halts_orders_and_release_lifts_the_halt(folder: Path) -> None:
    state = ["--state", "sqlite:///journal.db"]
    assert trimtab(folder, *PAPER, *state, "--dry-run", "--once").returncode == 0  # creates the journal
    assert trimtab(folder, "kill", *state, "--reason", "maintenance").returncode == 0
    halted = json.loads(trimtab(folder, *PAPER, *state, "--once").stdout)
    assert halted["halted"] is True and halted["orders"] == [] and halted["triggered"] is True
    status = json.loads(trimtab(folder, "status", *state, "--format", "json").stdout)
    assert status["halted"] is True and status["halt_reason"] == "maintenance"
    assert trimtab(folder, "release", *state).returncode == 0  # the kill switch needs release, as on the dashboard
    resumed = json.loads(trimtab(folder, *PAPER, *state, "--once").stdout)
    assert resumed["halted"] is False and len([o for o in resumed["orders"] if o["filled"] > 0]) == 4


def test_approve_asks_on_stdin_and_end_of_input_leaves_the_plan_pending(folder: Path) -> None:
    state = ["--state", "sqlite:///journal.db"]
    pending = trimtab(folder, *PAPER, *state, "--approve", "--once", stdin="")
    assert json.loads(pending.stdout)["orders"] == [] and "Execute these 4 orders?" in pending.stderr
    approved = trimtab(folder, *PAPER, *state, "--approve", "--once", stdin="y\n")
    assert len([o for o in json.loads(approved.stdout)["orders"] if o["filled"] > 0]) == 4


def test_bad_input_exits_2_with_one_line_naming_the_flag_and_nothing_written(folder: Path) -> None:
    missing = trimtab(folder, "run", "--policy", "policy.toml", "--market", "market.json", "--once")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [missing.stderr.strip()]
    assert "--portfolio" in missing.stderr
    no_keys = trimtab(folder, "run", "--venue", "binance", "--policy", "policy.toml", "--once")
    assert no_keys.returncode == 2 and "no API keys for binance" in no_keys.stderr
    unknown = trimtab(folder, "run", "--venue", "nosuchexchange", "--policy", "policy.toml", "--once")
    assert unknown.returncode == 2 and "neither 'paper' nor a ccxt exchange id" in unknown.stderr
    assert list(folder.glob("*.db*")) == []  # bad input writes nothing, not even an empty journal
    both = trimtab(folder, *PAPER, "--data", str(DATA), "--once")
    assert both.returncode == 2 and "--market" in both.stderr
    (folder / "broken.json").write_text('{"timestamp": "2026-11-21T00:00:00Z", "prices": {"BTC": -1}}')
    swap = {"market.json": "broken.json"}
    bad_market = trimtab(folder, *[swap.get(arg, arg) for arg in PAPER], "--once")
    assert bad_market.returncode == 2 and bad_market.stderr.startswith("broken.json: prices")
    (folder / "unpriced.toml").write_text('base_currency = "USDT"\n[[spot]]\nasset = "DOGE"\namount = 5.0\n')
    swap = {"portfolio.toml": "unpriced.toml"}
    unpriced = trimtab(folder, *[swap.get(arg, arg) for arg in PAPER], "--once")
    assert unpriced.returncode == 2 and "DOGE" in unpriced.stderr, unpriced.stderr
    assert list(folder.glob("*.db*")) == []  # files are checked before the journal is opened
    no_journal = trimtab(folder, "status", "--state", "sqlite:///nowhere.db")
    assert no_journal.returncode == 2 and "no journal" in no_journal.stderr
    assert not (folder / "nowhere.db").exists()


def test_a_replay_walks_the_bars_and_a_restart_goes_on_from_the_next_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for asset in ("BTC", "ETH", "BNB"):
        shutil.copy(DATA / f"spot_{asset}-USDT_1h.csv.gz", data)
    policy = (EXAMPLES / "policy.toml").read_text()
    policy = (
        policy.replace('assets = ["SOL", "BNB"]', 'assets = ["BNB"]')
        .replace("weights = { SOL = 0.5, BNB = 0.5 }", "")
        .replace('assets = ["USDT", "USDC"]', 'assets = ["USDT"]')
    )
    (tmp_path / "policy.toml").write_text(policy)
    (tmp_path / "portfolio.toml").write_text('base_currency = "USDT"\n[[spot]]\nasset = "USDT"\namount = 50000.0\n')
    args = [
        "run",
        "--policy",
        "policy.toml",
        "--portfolio",
        "portfolio.toml",
        "--data",
        "data",
        "--at",
        "2025-06-01T00:00:00Z",
        "--format",
        "json",
        "--state",
        "sqlite:///replay.db",
    ]
    first = trimtab(tmp_path, *args, "--cycles", "3")
    assert first.returncode == 0, first.stderr
    lines = [json.loads(text) for text in first.stdout.splitlines()]
    assert [line["timestamp"] for line in lines] == [
        "2025-06-01T01:00:00Z",
        "2025-06-01T02:00:00Z",
        "2025-06-01T03:00:00Z",
    ]
    assert lines[0]["triggered"] is True and lines[0]["orders"]
    more = json.loads(trimtab(tmp_path, *args, "--once").stdout)
    assert more["timestamp"] == "2025-06-01T04:00:00Z" and more["cycle"] == 4
