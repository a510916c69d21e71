"""The command line reads alike everywhere: help in words, -h, one --format vocabulary, shared defaults,
the dashboard's names for the controls, and exit statuses that tell a network failure from a held lock."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from trimtab.cli.main import EXIT_LOCKED, EXIT_NETWORK, error_status
from trimtab.errors import NeedsHumanError, VenueUnavailableError
from trimtab.testing.cli import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COMMANDS = [
    ["plan"], ["backtest"], ["compare"], ["sweep"], ["serve"], ["run"], ["pause"], ["resume"], ["kill"],
    ["release"], ["status"], ["orders"], ["init"], ["snapshot"], ["data", "list"], ["data", "import"],
    ["data", "download"],
]  # fmt: skip
PYTHON_TYPES = re.compile(r"<(bool|str|int|float|path|Path|list\[[^>]*\]|int range|float range)>")


def trimtab(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB")}
    return run_cli(*args, cwd=cwd, env=env)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_speaks_in_words_and_h_is_help(command: list[str], tmp_path: Path) -> None:
    long = trimtab(tmp_path, *command, "--help")
    short = trimtab(tmp_path, *command, "-h")
    assert long.returncode == 0 and short.returncode == 0
    assert short.stdout == long.stdout
    assert PYTHON_TYPES.search(long.stdout) is None, PYTHON_TYPES.search(long.stdout)
    if "--format" in long.stdout:
        assert "text|json" in long.stdout


def test_format_is_text_or_json_everywhere(tmp_path: Path) -> None:
    for name in ("policy.toml", "portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    plan = ["plan", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--market", "market.json"]
    text = trimtab(tmp_path, *plan, "--format", "text")
    assert text.returncode == 0 and "BTC" in text.stdout
    assert trimtab(tmp_path, *plan, "--format", "table").stdout == text.stdout  # the older name still works
    assert json.loads(trimtab(tmp_path, *plan, "--format", "json").stdout)["triggered"] is True
    for command in (plan, ["status"], ["orders"], ["data", "list"], ["backtest", "--policy", "policy.toml"]):
        bad = trimtab(tmp_path, *command, "--format", "yaml")
        assert bad.returncode == 2
        assert bad.stderr == "--format: 'yaml' must be 'text' or 'json'\n", (command, bad.stderr)


def test_the_controls_carry_the_dashboards_names_and_meanings(tmp_path: Path) -> None:
    for name in ("policy.toml", "portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    run = ["run", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--market", "market.json", "--once"]
    assert trimtab(tmp_path, *run, "--dry-run").returncode == 0
    assert trimtab(tmp_path, "pause").stdout == "orders: paused (paused from the command line)\n"
    assert trimtab(tmp_path, "resume").stdout == "orders: trading\n"
    assert trimtab(tmp_path, "kill", "--reason", "maintenance").stdout == "orders: halted (maintenance)\n"
    refused = trimtab(tmp_path, "resume")
    assert refused.returncode == 2
    assert refused.stderr == (
        "resume: the kill switch is on (maintenance); release it to trade again ('trimtab release')\n"
    )
    halted = json.loads(trimtab(tmp_path, *run, "--format", "json").stdout)
    assert halted["halted"] is True and halted["orders"] == []
    assert trimtab(tmp_path, "release").stdout == "orders: trading\n"
    state = json.loads(trimtab(tmp_path, "status", "--format", "json").stdout)
    assert state["halted"] is False
    from trimtab.storage import open_store
    from trimtab.storage.journal import Journal

    store = open_store(f"sqlite:///{tmp_path / 'trimtab-paper.db'}")
    try:
        kinds = [(d["kind"], d["payload"].get("source")) for d in Journal(store).decisions()]
    finally:
        store.close()
    assert [k for k in kinds if k[1] == "cli"] == [
        ("pause", "cli"), ("resume", "cli"), ("halt", "cli"), ("release", "cli"),
    ]  # fmt: skip


def test_serve_and_status_refuse_a_journal_that_does_not_exist(tmp_path: Path) -> None:
    for command in (["serve", "--port", "0"], ["status"], ["kill"], ["release"]):
        done = trimtab(tmp_path, *command, "--state", "sqlite:///typo.db")
        assert done.returncode == 2, command
        assert done.stderr == "--state: no journal at typo.db\n"
    assert not (tmp_path / "typo.db").exists()


def test_a_network_failure_exits_4_and_a_held_lock_3() -> None:
    assert error_status(VenueUnavailableError("binance: connection refused")) == EXIT_NETWORK == 4
    assert error_status(NeedsHumanError("insufficient balance")) == 1
    from trimtab.app.lock import InstanceLockedError

    assert error_status(InstanceLockedError("another trimtab run holds it")) == EXIT_LOCKED == 3
    unreachable = run_cli("status", "--state", "postgresql+psycopg://trimtab@127.0.0.1:1/none")
    assert unreachable.returncode == 4
    assert unreachable.stderr.startswith("trimtab: the journal postgresql+psycopg://trimtab@127.0.0.1:1/none cannot")


def test_status_lists_positions_with_their_liquidation_distance(tmp_path: Path) -> None:
    from trimtab.storage import open_store
    from trimtab.web.sample import seed_sample_journal

    store = open_store(f"sqlite:///{tmp_path / 'trimtab-paper.db'}")
    seed_sample_journal(store)  # a short BTC perpetual, liquidation at 89,700 for a 60,000 mark
    store.close()
    text = trimtab(tmp_path, "status")
    assert "  BTC/USDT:USDT    -0.05  entry -  liquidation 89,700.00 (49.50% away)" in text.stdout.splitlines()
    document = json.loads(trimtab(tmp_path, "status", "--format", "json").stdout)
    [position] = document["positions"]
    assert position["symbol"] == "BTC/USDT:USDT" and position["liquidation_distance"] == 0.495
