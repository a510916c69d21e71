"""A band-edge rebalance leaves every class inside its band after its costs, so the next cycle is quiet.

The example (``examples/policy.toml``) sells BTC from 46.4 % of 100,000 to its upper edge, 44 %. The sale pays
0.1 % taker fee and 5 bp of slippage from the cash, so it must solve (46,400 - x) / (100,000 - 0.0015 x) = 0.44,
x = 2,400 / (1 - 0.44 x 0.0015) = 2,401.585, 0.0414066 BTC at 58,000, rounded up to the lot: 0.04141 BTC. (The
2,400 a pre-cost sizing sold, rounded down to 0.04137 BTC, left BTC at 44.0016 %: every later cycle on the
same prices fired the trigger and found only an order below ``min_notional``.)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from trimtab.testing.cli import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_a_second_paper_cycle_on_the_same_snapshot_is_quiet(tmp_path: Path) -> None:
    for name in ("portfolio.toml", "policy.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    (tmp_path / "execution.toml").write_text("chase_interval_s = 60.0\npoll_interval_s = 10.0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
    files = ["--portfolio", "portfolio.toml", "--policy", "policy.toml", "--market", "market.json"]
    state = f"sqlite:///{tmp_path / 'paper.db'}"
    cycle = ["run", *files, "--execution", "execution.toml", "--state", state, "--once", "--format", "json"]

    first = run_cli(*cycle, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    traded = json.loads(first.stdout.splitlines()[0])
    assert traded["triggered"] is True
    sold = [(o["symbol"], o["side"], o["filled"]) for o in traded["orders"] if o["filled"] > 0]
    assert sold == [("BTC/USDT", "sell", 0.04141)]

    second = run_cli(*cycle, cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    quiet = json.loads(second.stdout.splitlines()[0])
    assert quiet["triggered"] is False, quiet.get("trigger_reason")
    assert quiet["orders"] == []

    status = run_cli("status", "--state", state, "--format", "json", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    classes = {c["name"]: c for c in document["classes"]}
    assert not any(c["breached"] for c in classes.values()), classes
    # BTC after the sale, worked by hand: 0.04141 BTC sold at 58,000 x (1 - 0.0005), the 0.1 % fee on that, so the
    # equity is 100,000 - 0.04141 x 58,000 x 0.0005 - 0.04141 x 57,971 x 0.001 and BTC holds 0.8 - 0.04141 BTC.
    equity = 100_000.0 - 0.04141 * 58_000.0 * 0.0005 - 0.04141 * 57_971.0 * 0.001
    assert classes["BTC"]["weight"] == pytest.approx((0.8 - 0.04141) * 58_000.0 / equity, abs=1e-9)
    assert classes["BTC"]["weight"] <= 0.44
