"""Paper replay == backtest: the same equity (to 1e-6) and the same trading days, for every trigger and strategy.

Both run one :class:`~trimtab.session.RebalancingSession` on the bundled real daily bars (BTC and ETH, early
2022, perpetual closes and 8-hourly funding where a policy hedges). The paper account starts from the
backtest's initial purchase (:func:`trimtab.testing.paper_replay.replay_like_backtest`) and trades through
the real run loop, executor and paper venue with market orders; the backtest fills on its simulated account.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.execution.config import ExecutionConfig
from trimtab.feed.history import load_history
from trimtab.loaders.policy import load_policy
from trimtab.session import GuardSettings
from trimtab.testing.paper_replay import backtest_trading_days, replay_like_backtest

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
SPOT = ("spot_BTC-USDT_1d.csv.gz", "spot_ETH-USDT_1d.csv.gz")
PERPS = (
    "perp_BTC-USDT_1h.csv.gz",
    "perp_ETH-USDT_1h.csv.gz",
    "perp_BTC-USDT_funding_8h.csv.gz",
    "perp_ETH-USDT_funding_8h.csv.gz",
    "perp_BTC-USDT_mark_8h.csv.gz",
    "perp_ETH-USDT_mark_8h.csv.gz",
)
START = datetime(2022, 1, 1, tzinfo=UTC)
BARS = 60
CLASSES = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.45
band = 0.015
hedge = "BTC/USDT:USDT"
[[class]]
name = "ETH"
assets = ["ETH"]
target = {eth}
band = 0.015
hedge = "ETH/USDT:USDT"
[[class]]
name = "STABLE"
assets = ["USDT"]
target = {cash}
band = 0.02
cash = true
[costs]
taker_fee = 0.001
slippage_bps = 5.0
"""
HEDGED = "[rebalance]\nhedge_leverage = 2\nmax_leverage = 3\n"
TRIGGERS = {
    "threshold": '[trigger]\nkind = "threshold"\n',
    "calendar": '[trigger]\nkind = "calendar"\nevery = "7d"\n[rebalance]\nmin_notional = 3000\n',
    "hybrid": '[trigger]\nkind = "hybrid"\nevery = "7d"\n',
    "any": '[trigger]\nkind = "any"\n[[trigger.of]]\nkind = "hybrid"\nevery = "7d"\n'
    '[[trigger.of]]\nkind = "calendar"\nevery = "30d"\n',
    "all": '[trigger]\nkind = "all"\n[[trigger.of]]\nkind = "threshold"\n'
    '[[trigger.of]]\nkind = "calendar"\nevery = "7d"\n',
    "adaptive": '[trigger]\nkind = "threshold"\n[trigger.adaptive]\nlookback = "30d"\nreference_vol = 0.6\n'
    "min_band = 0.01\nmax_band = 0.08\n",
}
STRATEGIES = {
    "perp": '[rebalance]\ninstrument = "perp"\nhedge_leverage = 2\nmax_leverage = 3\n',
    "auto": '[rebalance]\ninstrument = "auto"\nhedge_leverage = 2\nmax_leverage = 3\n',
    # (a line before the first table lands in the policy's [costs])
    "auto-horizon": 'funding_horizon_days = "auto"\n'
    '[rebalance]\ninstrument = "auto"\nhedge_leverage = 2\nmax_leverage = 3\n',
    "core-satellite": '[strategy]\nkind = "core-satellite"\ncore = ["BTC"]\nsatellite = ["ETH"]\n'
    'index_hedge = "BTC/USDT:USDT"\n' + HEDGED,
    "beta-neutral": '[strategy]\nkind = "beta-neutral"\nlong = "BTC"\nshort = "ETH"\nlookback = "30d"\n' + HEDGED,
    "beta-neutral-exposure": '[trigger]\nkind = "exposure"\nlong = "BTC"\nshort = "ETH"\ngap = 0.05\n'
    '[strategy]\nkind = "beta-neutral"\nlong = "BTC"\nshort = "ETH"\nbeta = 1.0\n' + HEDGED,
    "cppi": '[strategy]\nkind = "cppi"\nmultiplier = 3\nfloor = 0.8\nratchet = true\n',
    "delta-target": '[strategy]\nkind = "delta-target"\n[strategy.deltas]\nBTC = 0.2\n' + HEDGED,
    "risk-parity": '[strategy]\nkind = "risk-parity"\nlookback = "30d"\n',
}
SPOT_ONLY = ("fixed-spot", *TRIGGERS)


def _compare(tmp_path: Path, name: str, sections: str, hedged: bool) -> tuple[float, int]:
    data = tmp_path / "data"
    data.mkdir()
    for file in SPOT + (PERPS if hedged else ()):
        shutil.copy(DATA / file, data)
    eth, cash = ("0.0", "0.55") if name.startswith("beta-neutral") else ("0.35", "0.20")
    (tmp_path / "policy.toml").write_text(CLASSES.format(eth=eth, cash=cash) + sections)
    policy = load_policy(tmp_path / "policy.toml")
    history = load_history(data, ["BTC", "ETH"])
    paper = replay_like_backtest(policy, history, data, tmp_path, start=START, bars=BARS)
    backtest = run_backtest(policy, history, start=START, end=START + timedelta(days=BARS - 1))
    equity = np.asarray(backtest.equity)
    assert len(paper.equity) == len(equity) == BARS
    np.testing.assert_allclose(paper.equity, equity, rtol=1e-6, atol=0)
    days = backtest_trading_days(backtest, policy)
    assert paper.trading_days == days
    assert all(not c.paused and not c.halted for c in paper.cycles)
    return float(np.max(np.abs(np.asarray(paper.equity) / equity - 1.0))), len(days)


@pytest.mark.parametrize("trigger", SPOT_ONLY)
def test_a_paper_replay_of_a_spot_policy_ends_where_the_backtest_does(tmp_path: Path, trigger: str) -> None:
    sections = TRIGGERS.get(trigger, "")
    _, days = _compare(tmp_path, trigger, sections, hedged=False)
    assert days >= (1 if trigger == "calendar" else 3)  # the comparison covers real rebalances


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_a_paper_replay_of_a_strategy_ends_where_the_backtest_does(tmp_path: Path, strategy: str) -> None:
    _, days = _compare(tmp_path, strategy, STRATEGIES[strategy], hedged=strategy not in ("cppi", "risk-parity"))
    assert days >= 3


def test_a_paper_liquidation_is_journaled_where_the_backtest_records_it(tmp_path: Path) -> None:
    # 90 % spot BTC hedged to a 40 % delta with a 10x short perpetual through the February 2024 rally, guards
    # off: both clocks margin it in the contract's default account (unified, cross, the USDT balance at 1.0
    # plus the PnL), so both liquidate the short at the same bar and price (2024-02-15 at 51,528.26, worked by
    # hand in tests/integration/backtest/test_funding_and_liquidation.py) and its small replacement on 02-29.
    data = tmp_path / "data"
    data.mkdir()
    files = ("spot_BTC-USDT_1d", "perp_BTC-USDT_1h", "perp_BTC-USDT_funding_8h", "perp_BTC-USDT_mark_8h")
    for file in (f"{name}.csv.gz" for name in files):
        shutil.copy(DATA / file, data)
    (tmp_path / "policy.toml").write_text(
        'base_currency = "USDT"\n[[class]]\nname = "BTC"\nassets = ["BTC"]\ntarget = 0.9\nband = 0.05\n'
        'hedge = "BTC/USDT:USDT"\n[[class]]\nname = "CASH"\nassets = ["USDT"]\ntarget = 0.1\nband = 0.6\n'
        'cash = true\n[strategy]\nkind = "delta-target"\n[strategy.deltas]\nBTC = 0.4\n'
        "[rebalance]\nhedge_leverage = 10.0\nmax_leverage = 3.0\nmargin_buffer = 0.5\n"
        "[costs]\ntaker_fee = 0.0005\nslippage_bps = 0.0\n"
    )
    policy = load_policy(tmp_path / "policy.toml")
    history = load_history(data, ["BTC"])
    start = datetime(2024, 2, 1, tzinfo=UTC)
    config = ExecutionConfig(
        algo="market", twap_threshold=1e12, liquidation_buffer=0.0, funding_switch=False, max_order_fraction=10
    )
    paper = replay_like_backtest(policy, history, data, tmp_path, start=start, bars=28, config=config)
    unguarded = GuardSettings(liquidation_buffer=0.0, funding_switch=False)
    backtest = run_backtest(policy, history, start=start, end=start + timedelta(days=27), guards=unguarded)
    journaled = paper.journal.decisions(["liquidation"])
    expected = [e for e in backtest.events if e["kind"] == "liquidation"]
    assert len(journaled) == len(expected) == 2
    assert [e["timestamp"] for e in expected] == ["2024-02-15T00:00:00Z", "2024-02-29T00:00:00Z"]
    assert expected[0]["price"] == pytest.approx(51_528.26, abs=0.01)
    for decision, event in zip(journaled, expected, strict=True):
        assert decision["timestamp"].replace(tzinfo=UTC).isoformat().replace("+00:00", "Z") == event["timestamp"]
        assert decision["payload"]["price"] == pytest.approx(event["price"], rel=1e-9)
        assert "liquidated" in decision["reason"]
    np.testing.assert_allclose(paper.equity, np.asarray(backtest.equity), rtol=1e-6, atol=0)
