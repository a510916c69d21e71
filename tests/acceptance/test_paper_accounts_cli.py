"""``trimtab run`` on the paper venue with a portfolio that declares its accounts: one book, each wallet its own.

The coins sit in a spot account, the collateral in a USD-M derivatives account (cross). The hedge goes to
the derivatives account, margined from its wallet only; the cycle ends inside the bands with every account's
margin ok, and a restart without ``--portfolio`` rebuilds the same book from the journal.
By hand: BTC at 50,000; 2 BTC + 20,000 USDT in spot and 40,000 USDT in USD-M make 160,000 of equity; BTC at
62.5 % against 40 %: a 36,000 short, 0.72 BTC at 2x, holding 18,000 of initial margin.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.testing.cli import run_cli

PORTFOLIO = """
base_currency = "USDT"
[[account]]
name = "binance-spot"
exchange = "binance"
kind = "spot"
[[account]]
name = "binance-usdm"
exchange = "binance"
kind = "derivatives"
margin_mode = "cross"
[[spot]]
asset = "BTC"
amount = 2.0
venue = "binance-spot"
[[spot]]
asset = "USDT"
amount = 20000.0
venue = "binance-spot"
[[spot]]
asset = "USDT"
amount = 40000.0
venue = "binance-usdm"
"""
POLICY = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.40
band = 0.05
hedge = "BTC/USDT:USDT"
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.60
band = 0.05
cash = true
[rebalance]
instrument = "perp"
hedge_leverage = 2.0
max_leverage = 3.0
margin_buffer = 0.5
[costs]
taker_fee = 0.0005
maker_fee = 0.0002
slippage_bps = 0.0
"""
MARKET = {
    "timestamp": "2026-11-21T00:00:00Z",
    "prices": {"BTC": 50000.0, "USDT": 1.0},
    "derivatives": {"BTC/USDT:USDT": {"mark": 50000.0, "funding_rate": 0.0001, "funding_interval_hours": 8}},
}


def test_a_paper_book_hedges_in_the_derivatives_account_and_ends_inside_its_bands(tmp_path: Path) -> None:
    (tmp_path / "portfolio.toml").write_text(PORTFOLIO)
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "market.json").write_text(json.dumps(MARKET))
    (tmp_path / "execution.toml").write_text('algo = "market"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
    state = f"sqlite:///{tmp_path / 'paper.db'}"
    args = ["run", "--policy", "policy.toml", "--market", "market.json", "--execution", "execution.toml"]
    first = run_cli(
        *args, "--portfolio", "portfolio.toml", "--state", state, "--once", "--format", "json", cwd=tmp_path, env=env
    )
    assert first.returncode == 0, first.stderr
    cycle = json.loads(first.stdout.splitlines()[0])
    assert [(o["symbol"], o["side"], o["filled"]) for o in cycle["orders"]] == [
        ("BTC/USDT:USDT", "sell", pytest.approx(0.72))
    ]

    snapshot = Journal(open_store(state)).last_snapshot()
    assert snapshot is not None and snapshot["payload"]["after_trades"] is True
    holdings = snapshot["payload"]["holdings"]
    assert holdings["positions"]["BTC/USDT:USDT"]["amount"] == pytest.approx(-0.72)
    classes = {c["name"]: c for c in snapshot["payload"]["classes"]}
    assert all(c["lower"] - 1e-9 <= c["weight"] <= c["upper"] + 1e-9 for c in classes.values())
    assert classes["BTC"]["weight"] == pytest.approx(0.40, abs=1e-3)
    accounts = {a["name"]: a for a in snapshot["payload"]["margin"]["accounts"]}
    assert accounts["binance-usdm"]["ok"] is True
    assert accounts["binance-usdm"]["initial"] == pytest.approx(18_000.0)
    assert accounts["binance-usdm"]["collateral"] == pytest.approx(40_000.0 - 18.0)  # the taker fee on 36,000

    again = run_cli(*args, "--state", state, "--once", "--format", "json", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout.splitlines()[0])
    assert second["triggered"] is False and second["orders"] == []
