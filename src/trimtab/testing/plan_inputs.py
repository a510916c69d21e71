"""``trimtab plan`` on small input files, as the end-to-end tests drive it, and the book most of them start from.

The tests write a portfolio, a policy and a market snapshot into a folder and read back the plan::

    policy = HEDGED_HALVES + '[rebalance]\\ninstrument = "perp"\\n'
    document = plan_document(tmp_path, BTC_AND_CASH, policy, btc_market())

:data:`BTC_AND_CASH` at :func:`btc_market`'s price is 100,000 of equity with BTC at 58 %; :data:`HEDGED_HALVES` is
the policy's classes (BTC, hedged by its perpetual, and cash, 50 +/- 5 % each), which each test completes with the
tables it is about.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from trimtab.testing.cli import run_cli

BTC_AND_CASH = """\
base_currency = "USDT"

[[spot]]
asset = "BTC"
amount = 1.0

[[spot]]
asset = "USDT"
amount = 42000.0
"""
"""1 BTC and 42,000 USDT: 100,000 of equity at 58,000 a BTC, BTC 58 % of it."""

HEDGED_HALVES = """\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band = 0.05
hedge = "BTC/USDT:USDT"

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.5
band = 0.05
cash = true
"""
"""A policy's classes: BTC (hedged by ``BTC/USDT:USDT``) and USDT (the cash class), 50 +/- 5 % each."""

PLAN_ARGS = ("plan", "--portfolio", "portfolio.toml", "--policy", "policy.toml", "--market", "market.json")
"""``trimtab plan`` on the files :func:`write_plan_inputs` writes."""


def btc_market(mark: float = 58_000.0, volatility: dict[str, float] | None = None) -> dict[str, Any]:
    """A snapshot at 2026-11-21 00:00 UTC: BTC at 58,000 (USDT's price omitted: it is the base currency's, 1),
    its perpetual marked at ``mark`` and paying 0.01 % every 8 hours, and the ``volatility`` table if given."""
    market: dict[str, Any] = {
        "timestamp": "2026-11-21T00:00:00Z",
        "prices": {"BTC": 58_000.0},
        "derivatives": {"BTC/USDT:USDT": {"mark": mark, "funding_rate": 0.0001, "funding_interval_hours": 8}},
    }
    if volatility is not None:
        market["volatility"] = volatility
    return market


def write_plan_inputs(folder: Path, portfolio: str, policy: str, market: dict[str, Any]) -> None:
    """Write ``portfolio.toml``, ``policy.toml`` and ``market.json`` into ``folder``."""
    (folder / "portfolio.toml").write_text(portfolio)
    (folder / "policy.toml").write_text(policy)
    (folder / "market.json").write_text(json.dumps(market))


def run_plan(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``trimtab plan`` (:data:`PLAN_ARGS`) with ``extra`` arguments, in ``folder``; never raises on its status."""
    return run_cli(*PLAN_ARGS, *extra, cwd=folder)


def plan_document(folder: Path, portfolio: str, policy: str, market: dict[str, Any]) -> dict[str, Any]:
    """Write the three files and return ``trimtab plan --format json``'s document (the command must succeed)."""
    write_plan_inputs(folder, portfolio, policy, market)
    done = run_plan(folder, "--format", "json")
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document
