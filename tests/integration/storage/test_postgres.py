"""The journal on PostgreSQL (127.0.0.1:5432, database ``test``), each test in its own schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trimtab.storage import open_store
from trimtab.storage.journal import Journal, OverfillError
from trimtab.storage.state import StateStore

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_the_journal_migrates_and_round_trips_on_postgres(pg_url: str) -> None:
    store = open_store(pg_url)
    journal = Journal(store)
    journal.save_plan(
        "p1",
        created_at=NOW,
        cycle=1,
        venue="paper",
        equity=1.0,
        triggered=True,
        reason="",
        status="done",
        payload={"x": 1},
    )
    journal.add_order(
        client_order_id="tt-p1-0-0",
        plan_id="p1",
        intent_id=None,
        venue="paper",
        symbol="BTC/USDT",
        side="buy",
        order_type="market",
        amount=1.0,
        price=None,
        reduce_only=False,
        created_at=NOW,
    )
    kwargs = {"venue": "paper", "client_order_id": "tt-p1-0-0", "fee_currency": "USDT", "timestamp": NOW}
    assert journal.apply_fill(trade_id="a", amount=0.6, price=10.0, fee=0.01, **kwargs)
    assert not journal.apply_fill(trade_id="a", amount=0.6, price=10.0, fee=0.01, **kwargs)
    with pytest.raises(OverfillError):
        journal.apply_fill(trade_id="b", amount=0.6, price=10.0, fee=0.01, **kwargs)
    order = journal.order("tt-p1-0-0")
    assert order is not None and order.filled == pytest.approx(0.6) and order.created_at == NOW
    state = StateStore(store)
    state.set_halted(True, "test")
    assert state.halted() == (True, "test")
    store.close()
    # Reopening runs the migrations again as a no-op.
    assert Journal(open_store(pg_url)).order("tt-p1-0-0") is not None


def test_a_paper_cycle_runs_on_postgres_and_a_second_instance_is_locked_out(pg_url: str) -> None:
    from datetime import datetime

    from trimtab.app.lock import InstanceLock, InstanceLockedError
    from trimtab.app.loop import RunLoop
    from trimtab.domain import MarketSnapshot, Portfolio, SpotHolding
    from trimtab.execution.config import ExecutionConfig
    from trimtab.policy.config import Policy
    from trimtab.venues.paper import FixedFeed, PaperVenue

    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
        }
    )
    store = open_store(pg_url)
    now = datetime.now(UTC)
    venue = PaperVenue(
        FixedFeed(MarketSnapshot(now, {"BTC": 50_000.0, "USDT": 1.0})),
        base_currency="USDT",
        store=StateStore(store),
        initial=Portfolio("USDT", (SpotHolding("BTC", 1.5), SpotHolding("USDT", 25_000.0))),
    )
    with InstanceLock(store, name=f"test:{pg_url}"):
        with pytest.raises(InstanceLockedError):
            InstanceLock(open_store(pg_url), name=f"test:{pg_url}").acquire()
        loop = RunLoop(
            venue, store, policy, ExecutionConfig(algo="market"), clock=lambda: datetime.now(UTC), sleep=lambda s: None
        )
        result = loop.cycle()
    assert result.triggered and [o["status"] for o in result.orders] == ["filled"]
    assert Journal(store).orders()[0].symbol == "BTC/USDT"
    assert venue.fetch_balances()["BTC"] == pytest.approx(1.0, abs=1e-3)
