"""The contract's *bands from costs* (``band = "auto"``) through ``trimtab plan`` and a backtest.

Every width is computed here from the contract's formula: c = 2 x (taker + slippage), sigma_c = the
class's volatility x its target, k from the tracking budget, clipped to [0.002, 0.25].
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trimtab.testing.plan_inputs import run_plan, write_plan_inputs

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "market"

PORTFOLIO = """\
base_currency = "USDT"

[[spot]]
asset = "BTC"
amount = 1.0

[[spot]]
asset = "ETH"
amount = 10.0

[[spot]]
asset = "USDT"
amount = 12000.0
"""

POLICY = """\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band = "auto"

[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.3
band = "auto"

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.2
band = 0.05
cash = true

[rebalance]
tracking_budget = 0.02

[costs]
taker_fee = 0.001
slippage_bps = 5.0
"""

MARKET: dict[str, Any] = {
    "timestamp": "2026-11-21T00:00:00Z",
    "prices": {"BTC": 58000.0, "ETH": 3000.0},
    "volatility": {"BTC": 0.6, "ETH": 0.8},
}


def widths(sigmas: dict[str, float], cost: float = 0.003, budget: float = 0.02) -> dict[str, float]:
    scale = {name: (cost * s * s) ** (1 / 3) for name, s in sigmas.items()}
    k = budget * math.sqrt(3) / math.sqrt(sum(x * x for x in scale.values()) / len(scale))
    return {name: min(max(k * x, 0.002), 0.25) for name, x in scale.items()}


def plan(folder: Path, market: dict[str, Any]) -> Any:
    write_plan_inputs(folder, PORTFOLIO, POLICY, market)
    return run_plan(folder, "--format", "json")


def test_plan_reports_auto_widths_and_trades_auto_classes_to_their_band_edge(tmp_path: Path) -> None:
    # Equity 58,000 + 30,000 + 12,000 = 100,000: BTC 58 %, ETH 30 %, cash 12 %.
    # sigma: BTC 0.6 x 0.5 = 0.30, ETH 0.8 x 0.3 = 0.24.
    expected = widths({"BTC": 0.30, "ETH": 0.24})
    done = plan(tmp_path, MARKET)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    classes = {c["name"]: c for c in document["classes"]}
    for name, target in (("BTC", 0.5), ("ETH", 0.3)):
        assert classes[name]["lower"] == pytest.approx(target - expected[name])
        assert classes[name]["upper"] == pytest.approx(target + expected[name])
    # BTC is above its band: it goes to its upper edge, not to its target; ETH sits on target and stays.
    assert classes["BTC"]["breached"] is True
    assert classes["BTC"]["goal"] == pytest.approx(0.5 + expected["BTC"])
    [trade] = document["trades"]
    assert trade["symbol"] == "BTC/USDT" and trade["side"] == "sell"
    assert trade["notional"] == pytest.approx((0.58 - 0.5 - expected["BTC"]) * 100_000.0)
    [note] = [n for n in document["notes"] if n.startswith("bands from costs")]
    assert f"BTC +/- {expected['BTC'] * 100:.2f} %" in note and f"ETH +/- {expected['ETH'] * 100:.2f} %" in note


def test_plan_refuses_an_auto_class_without_volatility(tmp_path: Path) -> None:
    done = plan(tmp_path, {**MARKET, "volatility": {"BTC": 0.6}})
    assert done.returncode == 2 and done.stdout == ""
    assert "market.json: volatility: " in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "ETH" in done.stderr


def _closes(asset: str) -> dict[int, float]:
    out = {}
    with gzip.open(DATA / f"spot_{asset}-USDT_1d.csv.gz", "rt") as stream:
        for row in csv.DictReader(stream):
            stamp = datetime.fromisoformat(row["timestamp"].replace("Z", "+00:00"))
            out[int(stamp.timestamp())] = float(row["close"])
    return out


def test_a_backtest_sizes_auto_bands_from_realised_volatility_over_the_lookback(tmp_path: Path) -> None:
    from trimtab.backtest.engine import run_backtest
    from trimtab.feed import load_history
    from trimtab.loaders.policy import load_policy

    policy_path = tmp_path / "policy.toml"
    policy_path.write_text(POLICY.replace("tracking_budget = 0.02", 'tracking_budget = 0.02\nlookback = "30d"'))
    policy = load_policy(policy_path)
    start, end = datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 6, 30, tzinfo=UTC)
    history = load_history(DATA, ["BTC", "ETH", "USDT"], timeframe="1d", start=None, end=end, use_cache=False)
    result = run_backtest(policy, history, start=start, end=end)
    assert result.used_fast_path is False
    closes = {asset: _closes(asset) for asset in ("BTC", "ETH")}
    for bar in (40, 120):
        opened = int(result.timestamps[bar]) // 10**9 - 86_400  # a daily bar closes a day after it opens
        sigmas = {}
        for asset, target in (("BTC", 0.5), ("ETH", 0.3)):
            window = [closes[asset][opened - day * 86_400] for day in range(30, -1, -1)]  # 31 closes, 30 returns
            vol = float(np.std(np.diff(np.log(window)), ddof=1) * math.sqrt(365.0))
            sigmas[asset] = vol * target
        expected = widths(sigmas)
        names = list(result.class_names)
        for asset in ("BTC", "ETH"):
            column = names.index(asset)
            half = result.band_upper[bar, column] - result.targets[bar, column]
            assert half == pytest.approx(expected[asset], rel=1e-9)


def test_the_frontier_example_prints_the_figures_the_readme_quotes() -> None:
    import subprocess
    import sys

    script = str(ROOT / "examples" / "frontier.py")
    done = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for figure in ("2.253%", "3.271%", "3.349%", "3.565%", "4.809%", "6.312%", "6.770%"):
        assert figure in done.stdout and figure.replace("%", " %") in readme, figure
    for cost in ("4,177", "2,075", "1,954", "3,359", "1,572", "1,362", "2,473"):
        assert cost in done.stdout and cost in readme, cost
    assert "auto, budget 1.25%, 58% of its cost" in done.stdout
    assert "2.5% to band-edge, 62% of its cost" in done.stdout
    auto_rows = [line for line in done.stdout.splitlines() if line.strip().startswith("auto, budget")]
    assert len(auto_rows) == 6 and all(line.rstrip().endswith("yes") for line in auto_rows)
    # The policies the examples lead with, on their own assets, against 5 % bands to target there.
    examples = done.stdout[done.stdout.index("the examples' own assets") :]
    rows = {
        "5% bands to target": ("3.397%", "3,412", ""),
        "examples/policy.toml": ("3.604%", "2,624", "77% of its cost, tracks worse"),
        "examples/policy.toml, to target": ("2.140%", "5,272", "155% of its cost"),
        "bands-from-costs.toml": ("2.789%", "2,685", "79% of its cost, tracks at least as well"),
    }
    lines = {line.strip().split("  ")[0]: line for line in examples.splitlines()[1:5]}
    for name, (te, cost, verdict) in rows.items():
        assert te in lines[name] and cost in lines[name] and verdict in lines[name], (name, lines)
        assert f"| {te.replace('%', ' %')} | {cost} |" in readme, name
    assert "auto, budget 1.50% (3.265%), 72% of its cost" in examples
    assert "`auto` at a 1.5 % budget\n(3.265 %), costs 72 % as much" in readme
