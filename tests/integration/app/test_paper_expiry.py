"""A paper replay holding a quarterly through its expiry: settled at the 08:00 close, journaled, never traded after."""

from __future__ import annotations

import csv
import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trimtab.app.wiring import RunSetup, build_run
from trimtab.execution.config import ExecutionConfig
from trimtab.loaders.policy import load_policy
from trimtab.storage import open_store
from trimtab.storage.journal import Journal

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
JUNE = "BTC/USDT:USDT-240628"
POLICY = f"""
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.25
band = 0.1
hedge = "{JUNE}"
[[class]]
name = "CASH"
assets = ["USDT"]
target = 0.75
band = 0.6
cash = true
[strategy]
kind = "delta-target"
deltas = {{BTC = 0.0}}
[rebalance]
hedge_leverage = 1.0
[costs]
taker_fee = 0.0005
slippage_bps = 0.0
"""


def _close(open_time: str) -> float:
    with gzip.open(DATA / "spot_BTC-USDT_1h.csv.gz", "rt", newline="") as handle:
        return next(float(r["close"]) for r in csv.DictReader(handle) if r["timestamp"] == open_time)


def test_a_replayed_quarterly_settles_at_expiry_and_the_journal_records_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DATA / "spot_BTC-USDT_1h.csv.gz", data)
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "portfolio.toml").write_text(
        'base_currency = "USDT"\n[[spot]]\nasset = "USDT"\namount = 75000.0\n[[spot]]\nasset = "BTC"\namount = 0.4\n'
    )
    store = open_store(f"sqlite:///{tmp_path / 'paper.db'}")
    setup = RunSetup(
        portfolio=tmp_path / "portfolio.toml",
        data=data,
        at=datetime(2024, 6, 28, 0, tzinfo=UTC),
        config=ExecutionConfig(algo="market", twap_threshold=1e12),
    )
    run = build_run(load_policy(tmp_path / "policy.toml"), store, setup)
    for _ in range(12):  # bars closing 01:00 ... 12:00 on 28 June
        result = run.loop.cycle()
        assert not result.halted and not result.paused
        assert run.advance()
    journal = Journal(store)
    orders = journal.orders()
    (short,) = [o for o in orders if o.symbol == JUNE]
    assert short.side == "sell" and short.status == "filled" and short.average_price is not None
    assert all(o.created_at < datetime(2024, 6, 28, 8, tzinfo=UTC) for o in orders if o.symbol == JUNE)

    (decision,) = journal.decisions(kinds=["settlement"])
    underlying = _close("2024-06-28T07:00:00Z")
    expected = -short.filled * (underlying - short.average_price)
    assert decision["timestamp"] == datetime(2024, 6, 28, 8, tzinfo=UTC)
    assert decision["payload"]["underlying_price"] == underlying
    assert decision["payload"]["cash"] == pytest.approx(expected, rel=1e-12)
    assert decision["cycle"] == 8  # the cycle of the bar that closes at 08:00
    assert JUNE in decision["reason"] and "received" in decision["reason"]
    venue = run.loop.venue
    assert venue.fetch_positions() == []
    assert venue.document()["settlements"][0]["cash"] == pytest.approx(expected, rel=1e-12)  # type: ignore[attr-defined]
    # The class, unhedged after expiry, went back to its delta target with spot, not with the dead future.
    after = [o for o in orders if o.created_at >= datetime(2024, 6, 28, 8, tzinfo=UTC)]
    assert after and all(o.symbol == "BTC/USDT" for o in after)
