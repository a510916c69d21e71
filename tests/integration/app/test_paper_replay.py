"""A paper run over a replayed month of real hourly bars equals the backtest of the same policy."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trimtab.app.wiring import RunSetup, build_run
from trimtab.backtest.engine import run_backtest
from trimtab.execution.config import ExecutionConfig
from trimtab.feed.history import load_history
from trimtab.loaders.policy import load_policy
from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.valuation.valuate import valuate

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
POLICY = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.40
band = 0.02
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.30
band = 0.02
[[class]]
name = "BNB"
assets = ["BNB"]
target = 0.15
band = 0.02
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.15
band = 0.03
cash = true
[trigger]
kind = "threshold"
[rebalance]
scope = "all"
to = "target"
instrument = "spot"
min_notional = 10.0
[costs]
taker_fee = 0.0010
maker_fee = 0.0002
slippage_bps = 5.0
"""
START = datetime(2025, 3, 1, tzinfo=UTC)
LAST_BAR = datetime(2025, 3, 30, 23, tzinfo=UTC)  # open time of the last bar: 720 hourly bars


@pytest.mark.slow
def test_a_paper_month_keeps_the_bands_and_ends_at_the_backtests_equity(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for asset in ("BTC", "ETH", "BNB"):
        shutil.copy(DATA / f"spot_{asset}-USDT_1h.csv.gz", data)
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "portfolio.toml").write_text('base_currency = "USDT"\n[[spot]]\nasset = "USDT"\namount = 100000.0\n')
    policy = load_policy(tmp_path / "policy.toml")
    store = open_store(f"sqlite:///{tmp_path / 'paper.db'}")
    setup = RunSetup(
        portfolio=tmp_path / "portfolio.toml",
        data=data,
        at=START,
        config=ExecutionConfig(algo="market", twap_threshold=1e12),
    )
    run = build_run(policy, store, setup)
    results = []
    breaches_left = 0
    while True:
        result = run.loop.cycle()
        results.append(result)
        breaches_left += _outside(run, result)
        assert result.paused == [] and not result.halted
        assert result.converged
        assert run.feed is not None
        if run.feed.snapshot().timestamp >= datetime(2025, 3, 31, tzinfo=UTC):
            break
        assert run.advance()
    assert len(results) == 720

    backtest = run_backtest(
        policy, load_history(data, ["BTC", "ETH", "BNB"]), capital=100_000.0, start=START, end=LAST_BAR
    )
    paper_equity = run.loop.venue.equity()  # type: ignore[attr-defined]
    assert results[-1].equity == pytest.approx(backtest.metrics["final_equity"], rel=1e-9)
    assert paper_equity == pytest.approx(backtest.metrics["final_equity"], rel=1e-9)
    rebalances = [r for r in results[1:] if r.orders]
    assert len(rebalances) == backtest.metrics["rebalances"] >= 1

    assert all(o.status == "filled" for o in Journal(store).orders())
    assert breaches_left == 0


def _outside(run: object, result: object) -> int:
    """Classes outside their band once the cycle's trades are done, at the cycle's prices."""
    loop = run.loop  # type: ignore[attr-defined]
    snapshot = loop.journal.last_snapshot()
    market = loop.venue.feed.snapshot()
    valuation = valuate(loop.venue.portfolio(), market, loop.policy.asset_classes())
    weights = valuation.weights
    return sum(
        1 for c in snapshot["payload"]["classes"] if not c["lower"] - 1e-9 <= weights[c["name"]] <= c["upper"] + 1e-9
    )


def test_adaptive_bands_in_a_paper_replay_use_the_backtests_realised_volatility(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for asset in ("BTC", "ETH", "BNB"):
        shutil.copy(DATA / f"spot_{asset}-USDT_1h.csv.gz", data)
    adaptive = POLICY.replace(
        '[trigger]\nkind = "threshold"',
        '[trigger]\nkind = "threshold"\n[trigger.adaptive]\nlookback = "7d"\nreference_vol = 0.5\n'
        "min_band = 0.005\nmax_band = 0.08",
    )
    (tmp_path / "policy.toml").write_text(adaptive)
    (tmp_path / "portfolio.toml").write_text('base_currency = "USDT"\n[[spot]]\nasset = "USDT"\namount = 100000.0\n')
    policy = load_policy(tmp_path / "policy.toml")
    start, last_bar = datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 5, 10, 23, tzinfo=UTC)
    store = open_store(f"sqlite:///{tmp_path / 'paper.db'}")
    setup = RunSetup(
        portfolio=tmp_path / "portfolio.toml",
        data=data,
        at=start,
        config=ExecutionConfig(algo="market", twap_threshold=1e12),
    )
    run = build_run(policy, store, setup)
    traded = 0
    for bar in range(240):
        result = run.loop.cycle()
        traded += bool(result.orders)
        if bar < 239:
            assert run.advance()
    backtest = run_backtest(
        policy, load_history(data, ["BTC", "ETH", "BNB"]), capital=100_000.0, start=start, end=last_bar
    )
    assert traded - 1 == backtest.metrics["rebalances"] >= 2
    assert run.loop.venue.equity() == pytest.approx(backtest.metrics["final_equity"], rel=1e-9)  # type: ignore[attr-defined]
