"""A paper replay with the default limit algorithm ends at the backtest's equity, with no limit filled better.

Within a bar the replayed price stands still, so a limit order resting at the touch is never traded through:
the chase re-prices it, cancels it, and the market fallback fills at the bar's close with the policy's
slippage and the taker fee, which is what the backtest assumes. The notional caps count what traded or may
still trade, so re-pricing the same remainder never trips them.
"""

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

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
POLICY = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.40
band = 0.01
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.30
band = 0.01
[[class]]
name = "BNB"
assets = ["BNB"]
target = 0.15
band = 0.01
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.15
band = 0.03
cash = true
[costs]
taker_fee = 0.0010
maker_fee = 0.0002
slippage_bps = 5.0
"""
START = datetime(2025, 3, 1, tzinfo=UTC)
LAST_BAR = datetime(2025, 3, 2, 23, tzinfo=UTC)  # 48 hourly bars


def test_limit_orders_in_a_replay_end_where_the_backtest_ends(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for asset in ("BTC", "ETH", "BNB"):
        shutil.copy(DATA / f"spot_{asset}-USDT_1h.csv.gz", data)
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "portfolio.toml").write_text('base_currency = "USDT"\n[[spot]]\nasset = "USDT"\namount = 100000.0\n')
    policy = load_policy(tmp_path / "policy.toml")
    store = open_store(f"sqlite:///{tmp_path / 'paper.db'}")
    config = ExecutionConfig()  # the default: limit at the touch, chased three times, then market; TWAP above 50k
    run = build_run(policy, store, RunSetup(portfolio=tmp_path / "portfolio.toml", data=data, at=START, config=config))
    for bar in range(48):
        result = run.loop.cycle()
        assert result.guards == [], "no cap refuses a re-priced remainder"
        if bar < 47:
            assert run.advance()
    backtest = run_backtest(
        policy, load_history(data, ["BTC", "ETH", "BNB"]), capital=100_000.0, start=START, end=LAST_BAR
    )
    assert run.loop.venue.equity() == pytest.approx(backtest.metrics["final_equity"], rel=1e-9)  # type: ignore[attr-defined]
    orders = Journal(store).orders()
    limits = [o for o in orders if o.order_type == "limit"]
    assert limits and all(o.filled == 0.0 and o.status == "canceled" for o in limits)
    assert all(o.status == "filled" for o in orders if o.order_type == "market")
