"""Paper replay == backtest with the same cash flows, on the bundled real daily bars (BTC and ETH, early 2022).

The backtest applies its ``[[cash_flow]]`` schedule at the bars' closes; the paper run gets the same flows
journaled as ``trimtab deposit`` / ``withdraw`` records them and takes them through the real run loop, the
executor and the paper venue. Both steer them with the one session: the same equity (to 1e-6), the same
trading days, and the same time-weighted return.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.backtest.flows import time_weighted_return
from trimtab.feed.history import load_history
from trimtab.loaders.policy import load_policy
from trimtab.storage.flows import flows_after
from trimtab.testing.paper_replay import backtest_trading_days, replay_like_backtest

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
START = datetime(2022, 1, 1, tzinfo=UTC)
BARS = 60
POLICY = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.45
band = 0.03
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.35
band = 0.03
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.20
band = 0.03
cash = true
[costs]
taker_fee = 0.001
slippage_bps = 5.0
[[cash_flow]]
at = 2022-01-11T00:00:00Z
amount = 40000.0
[[cash_flow]]
at = 2022-01-25T06:00:00Z
amount = -25000.0
[[cash_flow]]
at = 2022-02-14T00:00:00Z
amount = 15000.0
"""


def test_paper_and_backtest_steer_the_same_flows_to_the_same_equity(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for asset in ("BTC", "ETH"):
        shutil.copy(DATA / f"spot_{asset}-USDT_1d.csv.gz", data)
    (tmp_path / "policy.toml").write_text(POLICY)
    policy = load_policy(tmp_path / "policy.toml")
    history = load_history(data, ["BTC", "ETH"])
    paper = replay_like_backtest(policy, history, data, tmp_path, start=START, bars=BARS)
    backtest = run_backtest(policy, history, start=START, end=START + timedelta(days=BARS - 1))

    assert [f.amount for f in flows_after(paper.journal.store, 0)] == [40_000.0, -25_000.0, 15_000.0]
    np.testing.assert_allclose(paper.equity, np.asarray(backtest.equity), rtol=1e-6, atol=0)
    assert paper.trading_days == backtest_trading_days(backtest, policy)
    # Each flow's own bar traded (the steering), on the day it reached both accounts.
    flow_days = [e["timestamp"] for e in backtest.events if e["kind"] == "cash_flow"]
    assert flow_days == ["2022-01-11T00:00:00Z", "2022-01-26T00:00:00Z", "2022-02-14T00:00:00Z"]
    assert set(flow_days) <= set(paper.trading_days)
    flows = np.asarray(backtest.flows)
    assert flows.sum() == 30_000.0
    paper_twr = time_weighted_return(paper.equity, flows, 100_000.0)
    assert backtest.metrics["time_weighted_return"] == pytest.approx(paper_twr, rel=1e-6)
    assert all(not c.paused and not c.halted for c in paper.cycles)
