"""The figures the README and docs/backtest.md quote for ``make demo``'s backtest are what ``compare`` prints."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from trimtab.testing.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "market"


def demo_policies() -> list[str]:
    """The policies ``make demo`` compares, in its order."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile[makefile.index("\ndemo:") :].split("\n\n", 1)[0]
    return re.findall(r"--policy (examples/backtest/\S+\.toml)", recipe)


def spaced(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def share(value: float, digits: int) -> str:
    return "0 %" if value == 0 else f"{value * 100:.{digits}f} %"


def test_the_quoted_demo_table_is_what_compare_prints(tmp_path: Path) -> None:
    policies = demo_policies()
    assert [Path(p).stem for p in policies] == ["bands-from-costs", "calendar", "fixed-band", "adaptive-band"]
    env = {**os.environ, "TRIMTAB_CACHE_DIR": str(tmp_path / "cache")}
    args = [arg for policy in policies for arg in ("--policy", policy)]
    done = run_cli("compare", "--data", str(DATA), "--format", "json", *args, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)["runs"]
    hold = runs[2]["benchmark"]  # buy and hold, its time outside measured against the fixed bands
    rows = {
        "Final equity (from 100 000)": [spaced(r["final_equity"]) for r in runs] + [spaced(hold["final_equity"])],
        "Rebalances": [str(r["rebalances"]) for r in runs] + [str(hold["rebalances"])],
        "Fees + slippage": [spaced(r["fees"] + r["slippage"]) for r in [*runs, hold]],
        "Tracking error": [share(r["tracking_error"], 2) for r in runs] + [share(hold["tracking_error"], 1)],
        "Time outside bands": [share(r["time_outside_bands"], 1) for r in [*runs, hold]],
    }
    for document in ("README.md", "docs/backtest.md"):
        text = (REPO / document).read_text(encoding="utf-8")
        for label, cells in rows.items():
            assert f"| {label} | {' | '.join(cells)} |" in text, (document, label, cells)
    text = (REPO / "docs" / "backtest.md").read_text(encoding="utf-8")
    for label, key in (("CAGR", "cagr"), ("Volatility", "volatility"), ("Max drawdown", "max_drawdown")):
        cells = [share(abs(r[key]), 1) for r in [*runs, hold]]
        assert f"| {label} | {' | '.join(cells)} |" in text, (label, cells)
