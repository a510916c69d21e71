"""``trimtab plan`` end to end, by subprocess: the seeds' worked examples, tables, bad input, --output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.cli import run_cli

SEED_A_PORTFOLIO = """\
base_currency = "USDT"

[[spot]]
asset = "BTC"
amount = 1.0

[[spot]]
asset = "USDT"
amount = 42000.0
"""

SEED_A_POLICY = """\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.50
band = 0.05
hedge = "BTC/USDT:USDT"

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.50
band = 0.05
cash = true

[rebalance]
instrument = "spot"

[costs]
taker_fee = 0.0010
slippage_bps = 5.0
"""

SEED_A_MARKET: dict[str, Any] = {
    "timestamp": "2026-11-21T00:00:00Z",
    "prices": {"BTC": 58000.0, "USDT": 1.0},
    "derivatives": {"BTC/USDT:USDT": {"mark": 58000.0, "funding_rate": 0.0001, "funding_interval_hours": 8}},
}

SEED_B_PORTFOLIO = """\
base_currency = "USDT"

[[spot]]
asset = "BTC"
amount = 4.0

[[spot]]
asset = "ETH"
amount = 50.0

[[spot]]
asset = "SOL"
amount = 1000.0

[[spot]]
asset = "USDT"
amount = 50000.0
"""

SEED_B_POLICY = """\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.40
band = 0.04
hedge = "BTC/USDT:USDT"

[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.30
band = 0.03
hedge = "ETH/USDT:USDT"

[[class]]
name = "ALTS"
assets = ["SOL"]
target = 0.15
band = 0.02
hedge = "ALTS/USDT:USDT"

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.15
band = 0.03
cash = true

[rebalance]
scope = "breached"
instrument = "perp"
"""

SEED_B_MARKET: dict[str, Any] = {
    "timestamp": "2026-11-21T00:00:00Z",
    "prices": {"BTC": 50000.0, "ETH": 3000.0, "SOL": 100.0, "USDT": 1.0},
    "derivatives": {
        "BTC/USDT:USDT": {"mark": 50000.0},
        "ETH/USDT:USDT": {"mark": 3000.0},
        "ALTS/USDT:USDT": {"mark": 100.0, "funding_rate": 0.0001},
    },
}


def write_inputs(folder: Path, portfolio: str, policy: str, market: dict[str, Any]) -> list[str]:
    (folder / "portfolio.toml").write_text(portfolio, encoding="utf-8")
    (folder / "policy.toml").write_text(policy, encoding="utf-8")
    (folder / "market.json").write_text(json.dumps(market), encoding="utf-8")
    return [
        "--portfolio", str(folder / "portfolio.toml"),
        "--policy", str(folder / "policy.toml"),
        "--market", str(folder / "market.json"),
    ]  # fmt: skip


def trimtab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd)


def plan_json(arguments: list[str], *extra: str) -> dict[str, Any]:
    result = trimtab("plan", *arguments, "--format", "json", *extra)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_seed_a_sells_8000_of_btc_spot(tmp_path: Path) -> None:
    document = plan_json(write_inputs(tmp_path, SEED_A_PORTFOLIO, SEED_A_POLICY, SEED_A_MARKET))
    assert document["equity"] == 100_000.0
    assert document["triggered"] is True
    btc = next(c for c in document["classes"] if c["name"] == "BTC")
    assert btc == {
        "name": "BTC", "target": 0.5, "lower": 0.45, "upper": 0.55, "weight": 0.58,
        "net_exposure": 58_000.0, "breached": True, "goal": 0.5, "cash": False,
    } | {k: v for k, v in btc.items() if k not in {"name", "target", "lower", "upper", "weight", "net_exposure",
                                                   "breached", "goal", "cash"}}  # fmt: skip
    assert btc["lower"] == pytest.approx(0.45)
    [trade] = document["trades"]
    assert (trade["class"], trade["symbol"], trade["instrument"], trade["side"], trade["venue"]) == (
        "BTC", "BTC/USDT", "spot", "sell", "default"
    )  # fmt: skip
    assert trade["amount"] == pytest.approx(8000.0 / 58000.0, rel=1e-9)
    assert trade["notional"] == pytest.approx(8000.0)
    assert document["costs"]["fees"] == pytest.approx(8.0)
    assert document["costs"]["slippage"] == pytest.approx(4.0)
    assert document["costs"]["funding_per_day"] == 0.0
    assert document["post_trade"]["BTC"] == pytest.approx(0.5, abs=1e-4)
    assert document["margin"]["initial"] == 0.0
    assert document["margin"]["ok"] is True


def test_seed_a_with_perp_shorts_8000_notional_and_leaves_spot_untouched(tmp_path: Path) -> None:
    policy = SEED_A_POLICY.replace('instrument = "spot"', 'instrument = "perp"')
    document = plan_json(write_inputs(tmp_path, SEED_A_PORTFOLIO, policy, SEED_A_MARKET))
    [trade] = document["trades"]
    assert (trade["symbol"], trade["instrument"], trade["side"]) == ("BTC/USDT:USDT", "perp", "sell")
    assert trade["notional"] == pytest.approx(8000.0)
    assert trade["amount"] == pytest.approx(8000.0 / 58000.0, rel=1e-9)
    assert not [t for t in document["trades"] if t["instrument"] == "spot"]
    assert document["post_trade"]["BTC"] == pytest.approx(0.5, abs=1e-4)
    assert document["costs"]["fees"] == pytest.approx(8.0)
    assert document["margin"]["initial"] == 0.0 and document["margin"]["after"]["initial"] > 0.0


def test_seed_b_hedges_the_altcoins_with_one_25000_short_on_the_index_perp(tmp_path: Path) -> None:
    document = plan_json(write_inputs(tmp_path, SEED_B_PORTFOLIO, SEED_B_POLICY, SEED_B_MARKET))
    assert document["equity"] == 500_000.0
    weights = {c["name"]: c["weight"] for c in document["classes"]}
    assert weights == pytest.approx({"BTC": 0.40, "ETH": 0.30, "ALTS": 0.20, "STABLE": 0.10})
    [trade] = document["trades"]
    assert (trade["class"], trade["symbol"], trade["instrument"], trade["side"]) == (
        "ALTS", "ALTS/USDT:USDT", "perp", "sell"
    )  # fmt: skip
    assert trade["notional"] == pytest.approx(25_000.0)
    assert trade["amount"] == pytest.approx(250.0)
    assert document["post_trade"]["ALTS"] == pytest.approx(0.15, abs=1e-4)
    assert document["post_trade"]["STABLE"] == pytest.approx(0.15, abs=1e-4)


def test_table_output_shows_the_classes_and_the_trade(tmp_path: Path) -> None:
    result = trimtab("plan", *write_inputs(tmp_path, SEED_A_PORTFOLIO, SEED_A_POLICY, SEED_A_MARKET))
    assert result.returncode == 0, result.stderr
    for expected in ("BTC", "STABLE", "BTC/USDT", "sell", "58.00 %", "above band", "8,000.00", "Fees"):
        assert expected in result.stdout, expected
    assert result.stderr == ""


def test_output_writes_the_json_to_a_file(tmp_path: Path) -> None:
    arguments = write_inputs(tmp_path, SEED_A_PORTFOLIO, SEED_A_POLICY, SEED_A_MARKET)
    target = tmp_path / "plan.json"
    result = trimtab("plan", *arguments, "--format", "json", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(result.stdout)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["market.json", "plan.json", "policy.toml", "portfolio.toml"]


BAD_INPUTS = [
    ("policy.toml", "class[0].target", lambda p, c, m: (p, c.replace("target = 0.50", "target = 1.50", 1), m)),
    ("policy.toml", "class", lambda p, c, m: (p, c.replace("target = 0.50", "target = 0.60", 1), m)),
    ("policy.toml", "rebalance.colour", lambda p, c, m: (p, c.replace("[rebalance]", '[rebalance]\ncolour = "x"'), m)),
    ("policy.toml", "trigger", lambda p, c, m: (p, c + '[trigger]\nkind = "calendar"\n', m)),
    ("policy.toml", "costs.taker_fee", lambda p, c, m: (p, c.replace("taker_fee = 0.0010", "taker_fee = nan"), m)),
    ("portfolio.toml", "spot[0].amount", lambda p, c, m: (p.replace("amount = 1.0", "amount = -1.0"), c, m)),
    ("portfolio.toml", "spot[2].asset", lambda p, c, m: (p + '[[spot]]\nasset = "DOGE"\namount = 1.0\n', c, m)),
    ("portfolio.toml", "base_currency", lambda p, c, m: (p.replace('"USDT"', '"USDC"', 1), c, m)),
    ("market.json", "prices.BTC", lambda p, c, m: (p, c, {**m, "prices": {"USDT": 1.0}})),
    ("market.json", "prices.BTC", lambda p, c, m: (p, c, {**m, "prices": {"BTC": -5.0}})),
    ("market.json", "timestamp", lambda p, c, m: (p, c, {k: v for k, v in m.items() if k != "timestamp"})),
    ("policy.toml", "", lambda p, c, m: (p, "[[class]\n", m)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "field", "edit"), BAD_INPUTS, ids=[f"{n}:{f or 'malformed'}" for n, f, _ in BAD_INPUTS]
)
def test_bad_input_exits_2_with_one_line_naming_file_and_field(
    tmp_path: Path, name: str, field: str, edit: Any
) -> None:
    portfolio, policy, market = edit(SEED_A_PORTFOLIO, SEED_A_POLICY, SEED_A_MARKET)
    arguments = write_inputs(tmp_path, portfolio, policy, market)
    target = tmp_path / "plan.json"
    result = trimtab("plan", *arguments, "--format", "json", "--output", str(target))
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{name}: {field}" if field else f"{name}: "), lines[0]
    assert "Traceback" not in result.stderr
    assert not target.exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--format", "yaml"], "--format: 'yaml' must be 'text' or 'json'"),
        (["--last-rebalance", "last week"], "--last-rebalance: 'last week' is not an ISO 8601 time"),
        (["--last-rebalance", "2027-01-01T00:00:00Z"], "--last-rebalance: 2027-01-01T00:00:00+00:00 is after"),
        (["--output", "missing-folder/plan.json"], "--output: the folder missing-folder does not exist"),
    ],
)
def test_bad_flags_exit_2_with_one_line(tmp_path: Path, extra: list[str], expected: str) -> None:
    arguments = write_inputs(tmp_path, SEED_A_PORTFOLIO, SEED_A_POLICY, SEED_A_MARKET)
    result = trimtab("plan", *arguments, *extra, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(expected), result.stderr


def test_missing_file_and_wrong_suffix_exit_2(tmp_path: Path) -> None:
    arguments = write_inputs(tmp_path, SEED_A_PORTFOLIO, SEED_A_POLICY, SEED_A_MARKET)
    missing = [*arguments[:-1], str(tmp_path / "nowhere.json")]
    result = trimtab("plan", *missing)
    assert (result.returncode, result.stderr) == (2, "nowhere.json: no such file\n")
    (tmp_path / "market.yaml").write_text("prices: {}\n", encoding="utf-8")
    wrong = [*arguments[:-1], str(tmp_path / "market.yaml")]
    result = trimtab("plan", *wrong)
    assert (result.returncode, result.stderr) == (2, "market.yaml: must end in .toml or .json\n")


def test_a_terminal_without_utf8_still_gets_its_plan(tmp_path: Path) -> None:
    arguments = write_inputs(tmp_path, SEED_A_PORTFOLIO, SEED_A_POLICY, SEED_A_MARKET)
    environment = {**os.environ, "PYTHONIOENCODING": "ascii"}
    for extra in ([], ["--format", "json"]):
        result = subprocess.run(
            [sys.executable, "-m", "trimtab", "plan", *arguments, *extra],
            capture_output=True, timeout=120, check=False, env=environment,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.decode("utf-8"))["trigger_reason"].startswith(
        "BTC at 58.00 % is outside 45.00–55.00 %"
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["plan", "--portfolio", "p.toml"], "Missing option"),
        (["plan", "--no-such-option"], "No such option"),
        (["no-such-command"], "No such command"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(arguments: list[str], expected: str) -> None:
    result = trimtab(*arguments)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
