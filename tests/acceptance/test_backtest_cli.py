"""``trimtab backtest``, ``compare``, ``sweep`` and ``data list`` end to end, by subprocess, on the bundled data.

Short date ranges keep every run fast; one test replays the contract's reference semantics by hand and
checks the command's figures against it.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trimtab.testing.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "market"
EXAMPLES = REPO / "examples" / "backtest"
CONTRACT_KEYS = {
    "final_equity",
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "max_drawdown",
    "rebalances",
    "turnover",
    "fees",
    "funding",
    "tracking_error",
}

HALF_BTC = """\
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

[trigger]
kind = "threshold"

[rebalance]
instrument = "spot"
min_notional = 10.0

[costs]
taker_fee = 0.0010
slippage_bps = 0.0
"""


def trimtab(*args: str, cwd: Path | None = None, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if cache is not None:
        env["TRIMTAB_CACHE_DIR"] = str(cache)
    return run_cli(*args, cwd=cwd or REPO, env=env)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _daily_closes(asset: str, first: str, last: str) -> np.ndarray:
    with gzip.open(DATA / f"spot_{asset}-USDT_1d.csv.gz", "rt") as stream:
        rows = [line.split(",") for line in stream.read().splitlines()[1:]]
    return np.array([float(row[4]) for row in rows if first <= row[0][:10] <= last])


def reference_run(
    closes: np.ndarray, capital: float, target: float, band: float, fee: float, floor: float
) -> dict[str, Any]:
    """The contract's reference semantics for a two-class spot policy with zero slippage."""
    units = target * capital / closes[0]
    cash = capital * (1 - target) - fee * target * capital
    fees, rebalances = fee * target * capital, 0
    equity = []
    for bar, price in enumerate(closes):
        value = units * price + cash
        if bar > 0 and abs(units * price / value - target) > band:
            trade = target * value - units * price
            if abs(trade) >= floor:
                units += trade / price
                cash -= trade + fee * abs(trade)
                fees += fee * abs(trade)
                rebalances += 1
        equity.append(units * price + cash)
    return {"final_equity": equity[-1], "fees": fees, "rebalances": rebalances, "bars": len(closes)}


def test_backtest_json_follows_the_reference_semantics(tmp_path: Path, cache: Path) -> None:
    policy = tmp_path / "half.toml"
    policy.write_text(HALF_BTC)

    done = trimtab(
        "backtest", "--policy", str(policy), "--data", str(DATA), "--timeframe", "1d",
        "--start", "2022-01-01", "--end", "2022-12-31", "--format", "json", cache=cache,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) >= CONTRACT_KEYS
    expected = reference_run(_daily_closes("BTC", "2022-01-01", "2022-12-31"), 100_000.0, 0.5, 0.05, 0.001, 10.0)
    assert document["bars"] == expected["bars"] == 365
    assert document["final_equity"] == pytest.approx(expected["final_equity"], rel=1e-9)
    assert document["fees"] == pytest.approx(expected["fees"], rel=1e-9)
    assert document["rebalances"] == expected["rebalances"] > 0
    assert document["total_return"] == pytest.approx(document["final_equity"] / 100_000.0 - 1, rel=1e-12)
    assert document["funding"] == 0.0
    assert 0 < document["tracking_error"] < 0.05


def test_backtest_table_and_report(tmp_path: Path, cache: Path) -> None:
    report = tmp_path / "fixed.html"

    done = trimtab(
        "backtest", "--policy", str(EXAMPLES / "fixed-band.toml"), "--data", str(DATA),
        "--start", "2024-01-01", "--end", "2024-03-31", "--capital", "50000", "--report", str(report), cache=cache,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "Final equity" in done.stdout
    assert "Buy and hold" in done.stdout
    assert "2024-01-02 00:00 to 2024-04-01 00:00 UTC, 91 bars" in done.stdout
    text = report.read_text(encoding="utf-8")
    assert "Equity against buy-and-hold" in text
    assert "fixed-band: class weights against their bands" in text


def test_compare_runs_every_policy_side_by_side(tmp_path: Path, cache: Path) -> None:
    report = tmp_path / "compare.html"
    policies = [EXAMPLES / f"{name}.toml" for name in ("calendar", "fixed-band", "adaptive-band")]

    done = trimtab(
        "compare", *[item for path in policies for item in ("--policy", str(path))], "--data", str(DATA),
        "--start", "2023-01-01", "--end", "2023-12-31", "--format", "json", "--report", str(report), cache=cache,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)["runs"]
    assert [run["name"] for run in runs] == ["calendar", "fixed-band", "adaptive-band"]
    assert all(set(run) >= CONTRACT_KEYS for run in runs)
    assert len({run["final_equity"] for run in runs}) == 3
    assert all(run["bars"] == 365 for run in runs)
    # the calendar policy rebalances every 30 days whatever the drift: about 12 times in a year
    assert 10 <= runs[0]["rebalances"] <= 14
    assert "<th>calendar</th><th>fixed-band</th><th>adaptive-band</th>" in report.read_text(encoding="utf-8")


def test_sweep_marks_an_efficient_frontier(tmp_path: Path, cache: Path) -> None:
    report = tmp_path / "sweep.html"

    done = trimtab(
        "sweep", "--policy", str(EXAMPLES / "fixed-band.toml"), "--data", str(DATA),
        "--start", "2023-01-01", "--end", "2023-06-30",
        "--grid", "band=0.02:0.10:0.04", "--grid", "to=target,band-edge", "--workers", "2",
        "--format", "json", "--report", str(report), cache=cache,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    points = document["points"]
    assert len(points) == 6
    assert [p["params"] for p in points[:2]] == [{"band": 0.02, "to": "target"}, {"band": 0.02, "to": "band-edge"}]
    efficient = [p for p in points if p["efficient"]]
    assert efficient
    assert document["efficient"] == [p["label"] for p in efficient]
    for point in efficient:  # nothing beats an efficient point on both axes
        assert not any(q["tracking_error"] < point["tracking_error"] and q["cost"] < point["cost"] for q in points)
    for point in points:
        metrics = point["metrics"]
        assert point["cost"] == pytest.approx(metrics["fees"] + metrics["slippage"] + metrics["funding"])
    # wider bands trade less
    targets = [p for p in points if p["params"]["to"] == "target"]
    assert targets[0]["metrics"]["rebalances"] >= targets[-1]["metrics"]["rebalances"]
    assert "Frontier: tracking error against cost" in report.read_text(encoding="utf-8")


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="ray is not installed (pip install 'trimtab[cluster]')"
)
def test_sweep_on_a_local_ray_instance(cache: Path) -> None:
    done = trimtab(
        "sweep", "--policy", str(EXAMPLES / "fixed-band.toml"), "--data", str(DATA),
        "--start", "2023-01-01", "--end", "2023-03-31", "--grid", "band=0.03,0.06",
        "--ray-address", "local", "--format", "json", cache=cache,
    )  # fmt: skip
    local = trimtab(
        "sweep", "--policy", str(EXAMPLES / "fixed-band.toml"), "--data", str(DATA),
        "--start", "2023-01-01", "--end", "2023-03-31", "--grid", "band=0.03,0.06", "--workers", "1",
        "--format", "json", cache=cache,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    on_ray = [(p["label"], p["metrics"]["final_equity"]) for p in json.loads(done.stdout)["points"]]
    in_process = [(p["label"], p["metrics"]["final_equity"]) for p in json.loads(local.stdout)["points"]]
    assert on_ray == in_process


def test_data_list_reports_the_bundled_files_and_their_gaps(cache: Path) -> None:
    done = trimtab("data", "list", "--data", str(DATA), "--format", "json", cache=cache)

    assert done.returncode == 0, done.stderr
    files = {entry["file"]: entry for entry in json.loads(done.stdout)["files"]}
    assert len([name for name in files if name.startswith("spot_") and name.endswith("_1d.csv.gz")]) == 15
    btc = files["spot_BTC-USDT_1h.csv.gz"]
    assert (btc["rows"], btc["gaps"], btc["missing_bars"]) == (74463, 28, 128)
    assert btc["first"] == "2017-08-17T04:00:00Z"
    assert files["perp_ETH-USDT_funding_8h.csv.gz"]["kind"] == "funding"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backtest", "--policy", "missing.toml"], "missing.toml: no such file"),
        (["backtest", "--policy", "{fixed}", "--start", "2024-02-01", "--end", "2024-01-01"], "--start"),
        (["backtest", "--policy", "{fixed}", "--data", "no-such-folder"], "--data"),
        (["backtest", "--policy", "{fixed}", "--capital", "-5"], "--capital"),
        (["sweep", "--policy", "{fixed}", "--grid", "band=0.2:0.1:0.01"], "--grid"),
        (["sweep", "--policy", "{fixed}", "--grid", "to=middle"], "rebalance.to"),
        (["compare", "--policy", "{fixed}"], "at least two policies"),
        (["data", "list", "--data", "no-such-folder"], "--data"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    filled = [arg.replace("{fixed}", str(EXAMPLES / "fixed-band.toml")) for arg in args]
    if "--data" not in filled and filled[0] != "data":
        filled += ["--data", str(DATA)]

    done = trimtab(*filled, cwd=tmp_path)

    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""
