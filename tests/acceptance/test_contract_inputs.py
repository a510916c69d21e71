"""The contract's rules for input, checked from outside on every command that reads files.

Bad input exits with status 2 and one line on stderr naming the file and the field, and nothing is
written; unknown keys are errors at every level of every file; a usage error (an unknown flag, a bad
``--start``) is bad input too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.cli import run_cli

PORTFOLIO: dict[str, Any] = {
    "base_currency": "USDT",
    "spot": [{"asset": "BTC", "amount": 1.0}, {"asset": "USDT", "amount": 42000.0}],
    "derivatives": [{"symbol": "BTC/USDT:USDT", "amount": -0.1, "entry_price": 60000.0}],
}

POLICY: dict[str, Any] = {
    "base_currency": "USDT",
    "class": [
        {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05, "hedge": "BTC/USDT:USDT"},
        {"name": "STABLE", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
    ],
    "trigger": {"kind": "threshold", "adaptive": {"lookback": "30d", "reference_vol": 0.6}},
    "rebalance": {"scope": "all", "to": "target", "instrument": "spot", "min_notional": 10.0},
    "costs": {"taker_fee": 0.001, "slippage_bps": 5.0},
}

MARKET: dict[str, Any] = {
    "timestamp": "2026-11-21T00:00:00Z",
    "prices": {"BTC": 58000.0},
    "derivatives": {"BTC/USDT:USDT": {"mark": 58020.0, "funding_rate": 0.0001, "funding_interval_hours": 8}},
    "volatility": {"BTC": 0.6},
}


def trimtab(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd)


def with_key(document: dict[str, Any], path: tuple[str | int, ...], key: str) -> dict[str, Any]:
    """A deep copy of ``document`` with an unknown ``key`` added to the table at ``path``."""
    copy: dict[str, Any] = json.loads(json.dumps(document))
    node: Any = copy
    for part in path:
        node = node[part]
    node[key] = 1
    return copy


def write(folder: Path, portfolio: dict[str, Any], policy: dict[str, Any], market: dict[str, Any]) -> None:
    (folder / "portfolio.json").write_text(json.dumps(portfolio))
    (folder / "policy.json").write_text(json.dumps(policy))
    (folder / "market.json").write_text(json.dumps(market))


def assert_bad_input(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(expected), lines[0]


PLAN = ("plan", "--portfolio", "portfolio.json", "--policy", "policy.json", "--market", "market.json")

UNKNOWN_KEYS = [
    ("portfolio", (), "portfolio.json: bogus: unknown key"),
    ("portfolio", ("spot", 1), "portfolio.json: spot[1].bogus: unknown key"),
    ("portfolio", ("derivatives", 0), "portfolio.json: derivatives[0].bogus: unknown key"),
    ("policy", (), "policy.json: bogus: unknown key"),
    ("policy", ("class", 1), "policy.json: class[1].bogus: unknown key"),
    ("policy", ("trigger",), "policy.json: trigger.bogus: unknown key"),
    ("policy", ("trigger", "adaptive"), "policy.json: trigger.adaptive.bogus: unknown key"),
    ("policy", ("rebalance",), "policy.json: rebalance.bogus: unknown key"),
    ("policy", ("costs",), "policy.json: costs.bogus: unknown key"),
    ("market", (), "market.json: bogus: unknown key"),
    ("market", ("derivatives", "BTC/USDT:USDT"), 'market.json: derivatives."BTC/USDT:USDT".bogus: unknown key'),
]


@pytest.mark.parametrize(("which", "path", "expected"), UNKNOWN_KEYS)
def test_an_unknown_key_at_any_level_is_bad_input(
    tmp_path: Path, which: str, path: tuple[str | int, ...], expected: str
) -> None:
    files = {"portfolio": PORTFOLIO, "policy": POLICY, "market": MARKET}
    files[which] = with_key(files[which], path, "bogus")
    write(tmp_path, files["portfolio"], files["policy"], files["market"])
    assert_bad_input(trimtab(*PLAN, cwd=tmp_path), expected)


def test_the_valid_files_plan(tmp_path: Path) -> None:
    write(tmp_path, PORTFOLIO, POLICY, MARKET)
    done = trimtab(*PLAN, "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["equity"] == pytest.approx(58000.0 + 42000.0 + (58020.0 - 60000.0) * -0.1)


def test_a_bad_value_names_file_and_field_in_the_contract_words(tmp_path: Path) -> None:
    policy = json.loads(json.dumps(POLICY))
    policy["class"][1]["target"] = 1.5
    write(tmp_path, PORTFOLIO, policy, MARKET)
    assert_bad_input(trimtab(*PLAN, cwd=tmp_path), "policy.json: class[1].target: must be between 0 and 1")


def test_backtest_with_a_bad_policy_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        'base_currency = "USDT"\n[[class]]\nname = "BTC"\nassets = ["BTC"]\ntarget = 2\n'
    )
    (tmp_path / "data").mkdir()
    done = trimtab("backtest", "--policy", "bad.toml", "--data", "data", "--report", "r.html", cwd=tmp_path)
    assert_bad_input(done, "bad.toml: class[0].")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("backtest", "--policy", "policy.json", "--data", ".", "--start", "yesterday"), "--start: "),
        (("backtest", "--policy", "policy.json", "--data", ".", "--capital", "-1"), "--capital: "),
        (("run", "--policy", "policy.json", "--market", "market.json", "--once", "--at", "soon"), "--at: "),
        (
            ("plan", "--portfolio", "portfolio.json", "--policy", "policy.json", "--market", "market.json", "--bogus"),
            "",
        ),
        (("backtest", "--policy", "policy.json", "--bogus"), ""),
        (("run", "--policy", "policy.json", "--bogus"), ""),
        (("status", "--state", "sqlite:///none.db", "--bogus"), ""),
        (("orders", "--state", "sqlite:///none.db", "--bogus"), ""),
        (("compare", "--policy", "policy.json", "--bogus"), ""),
        (("sweep", "--policy", "policy.json", "--grid", "band=0.01", "--bogus"), ""),
        (("serve", "--bogus"), ""),
        (("data", "list", "--bogus"), ""),
    ],
)
def test_bad_flags_are_one_line_exit_2_and_write_nothing(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    write(tmp_path, PORTFOLIO, POLICY, MARKET)
    before = sorted(path.name for path in tmp_path.iterdir())
    done = trimtab(*args, cwd=tmp_path)
    assert_bad_input(done, expected)
    if "--bogus" in args:
        assert "--bogus" in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == before


def test_status_and_orders_of_a_missing_journal_create_nothing(tmp_path: Path) -> None:
    for command in ("status", "orders"):
        assert_bad_input(trimtab(command, "--state", "sqlite:///none.db", cwd=tmp_path), "--state: ")
    assert list(tmp_path.iterdir()) == []


def test_run_with_a_bad_portfolio_writes_no_journal(tmp_path: Path) -> None:
    write(tmp_path, with_key(PORTFOLIO, ("spot", 0), "bogus"), POLICY, MARKET)
    done = trimtab(
        "run", "--policy", "policy.json", "--portfolio", "portfolio.json", "--market", "market.json", "--once",
        cwd=tmp_path,
    )  # fmt: skip
    assert_bad_input(done, "portfolio.json: spot[0].bogus: unknown key")
    assert not (tmp_path / "trimtab-paper.db").exists()
