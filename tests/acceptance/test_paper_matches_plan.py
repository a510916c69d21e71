"""``plan`` and a paper ``run --once`` on the same files agree: the same trades, and the cost the plan priced.

The book (``examples/portfolio-options.toml``): 1 BTC spot, 2 long BTC calls (strike 70,000, expiring
2026-12-25 08:00 UTC) and a 1.2 BTC short perpetual; the policy keeps the BTC delta at zero with the
perpetual. The hedge is checked against Black-76 computed here: delta N(d1) with
d1 = (ln(F/K) + sigma^2 T / 2) / (sigma sqrt T), F = 58,000, sigma = 0.55, T = 34 days 8 hours / 365.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest

from trimtab.testing.cli import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FILES = ("portfolio-options.toml", "policy-delta-target.toml", "market-options.json")


def _delta_hedge_by_hand() -> float:
    forward, strike, sigma = 58_000.0, 70_000.0, 0.55
    years = (34 + 8 / 24) / 365.0
    d1 = (math.log(forward / strike) + sigma * sigma * years / 2) / (sigma * math.sqrt(years))
    delta = 0.5 * (1 + math.erf(d1 / math.sqrt(2)))
    net = 1.0 * 58_000.0 + 2.0 * delta * 58_000.0 - 1.2 * 58_020.0  # spot + calls + the perp at its mark
    return net / 58_020.0  # BTC of perpetual to sell


def test_plan_and_a_paper_cycle_sell_the_same_perpetual_amount(tmp_path: Path) -> None:
    for name in FILES:
        shutil.copy(EXAMPLES / name, tmp_path / name)
    (tmp_path / "execution.toml").write_text("chase_interval_s = 0.05\npoll_interval_s = 0.01\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
    common = ["--policy", "policy-delta-target.toml", "--format", "json"]
    plan = run_cli(
        "plan",
        "--portfolio",
        "portfolio-options.toml",
        "--market",
        "market-options.json",
        *common,
        cwd=tmp_path,
        env=env,
    )
    assert plan.returncode == 0, plan.stderr
    planned = json.loads(plan.stdout)["trades"]

    run = run_cli(
        "run",
        "--venue",
        "paper",
        "--portfolio",
        "portfolio-options.toml",
        "--market",
        "market-options.json",
        "--state",
        f"sqlite:///{tmp_path / 'paper.db'}",
        "--execution",
        "execution.toml",
        "--once",
        *common,
        cwd=tmp_path,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    cycle = json.loads(run.stdout.splitlines()[0])
    assert cycle["timestamp"].startswith("2026-11-21T00:00:0"), "a fixed snapshot is valued at its own moment"

    by_hand = _delta_hedge_by_hand()
    assert by_hand == pytest.approx(0.102, abs=0.001)  # rounded to the market's 0.001 step
    assert [(t["symbol"], t["side"], t["amount"]) for t in planned] == [("BTC/USDT:USDT", "sell", 0.102)]
    # The limit chase on a snapshot that stands still never fills; the market fallback sells the remainder.
    assert [(o["symbol"], o["side"], o["filled"]) for o in cycle["orders"] if o["filled"] > 0] == [
        ("BTC/USDT:USDT", "sell", 0.102)
    ]
    assert cycle["equity"] == pytest.approx(json.loads(plan.stdout)["equity"], rel=1e-12)


def test_the_example_rebalance_in_paper_costs_what_the_plan_said_it_would(tmp_path: Path) -> None:
    # The plan prices the example rebalance at fees + slippage; paper, filling no limit better than the market,
    # ends exactly that much below the starting equity (an earlier paper venue ended above it).
    for name in ("portfolio.toml", "policy.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    # A minute between re-pricings: on a snapshot that stands still the 4 chased limits cannot fill, and the run
    # passes those 4 minutes at once on its clock instead of waiting them out.
    (tmp_path / "execution.toml").write_text("chase_interval_s = 60.0\npoll_interval_s = 10.0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
    files = ["--portfolio", "portfolio.toml", "--policy", "policy.toml", "--market", "market.json"]
    plan = json.loads(run_cli("plan", *files, "--format", "json", cwd=tmp_path, env=env).stdout)
    state = f"sqlite:///{tmp_path / 'paper.db'}"
    started = time.monotonic()
    run = run_cli(
        "run", *files, "--execution", "execution.toml", "--state", state, "--once", "--format", "json",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    orders = json.loads(run_cli("orders", "--state", state, "--format", "json", cwd=tmp_path, env=env).stdout)
    assert [o["status"] for o in orders] == ["canceled"] * 4 + ["filled"]
    placed = [datetime.fromisoformat(o["created_at"].replace("Z", "+00:00")) for o in orders]
    assert [round((moment - placed[0]).total_seconds() / 60) for moment in placed] == [0, 1, 2, 3, 4]
    assert elapsed < 120.0
    status = json.loads(run_cli("status", "--state", state, "--format", "json", cwd=tmp_path, env=env).stdout)
    # The example trades to the band edge: one sale of BTC from 46.4 % of 100,000 to 44 % after the sale's 0.1 % taker
    # fee and 5 bp of slippage, x = 2,400 / (1 - 0.44 x 0.0015) = 2,401.585 at 58,000, rounded up (toward the
    # band's inside) to the 0.00001 BTC lot: 0.04141 BTC, 2,401.78.
    assert [(t["symbol"], t["side"], t["amount"]) for t in plan["trades"]] == [("BTC/USDT", "sell", 0.04141)]
    cost = plan["costs"]["fees"] + plan["costs"]["slippage"]
    assert cost == pytest.approx(0.04141 * 58_000.0 * (0.0010 + 0.0005), abs=1e-9)  # 3.60
    sold = [order for order in json.loads(run.stdout)["orders"] if order["filled"] > 0]
    assert [(o["symbol"], o["side"], o["filled"]) for o in sold] == [("BTC/USDT", "sell", 0.04141)]
    assert status["equity"] == pytest.approx(plan["equity"] - cost, abs=0.01)
