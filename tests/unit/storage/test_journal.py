"""The journal: orders before sending, fills applied once, overfills refused, atomic transactions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trimtab.storage import StorageError, open_store
from trimtab.storage.journal import Journal, OverfillError
from trimtab.storage.state import StateStore

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))


def _order(journal: Journal, client_id: str = "tt-p1-0-0", amount: float = 1.0) -> None:
    journal.save_plan(
        "p1",
        created_at=NOW,
        cycle=1,
        venue="paper",
        equity=1000.0,
        triggered=True,
        reason="r",
        status="executing",
        payload={"trades": []},
    )
    journal.add_order(
        client_order_id=client_id,
        plan_id="p1",
        intent_id=None,
        venue="paper",
        symbol="BTC/USDT",
        side="sell",
        order_type="limit",
        amount=amount,
        price=100.0,
        reduce_only=False,
        created_at=NOW,
    )


def test_an_order_is_journaled_pending_and_survives_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    _order(Journal(open_store(url)))
    reopened = Journal(open_store(url))
    order = reopened.order("tt-p1-0-0")
    assert order is not None
    assert order.status == "pending"
    assert order.is_open
    assert order.created_at == NOW
    assert [o.client_order_id for o in reopened.orders(open_only=True)] == ["tt-p1-0-0"]


def test_a_fill_is_applied_once_and_averages_the_price(journal: Journal) -> None:
    _order(journal, amount=2.0)
    kwargs = {"venue": "paper", "client_order_id": "tt-p1-0-0", "fee_currency": "USDT", "timestamp": NOW}
    assert journal.apply_fill(trade_id="t1", amount=0.5, price=100.0, fee=0.05, **kwargs)
    assert not journal.apply_fill(trade_id="t1", amount=0.5, price=100.0, fee=0.05, **kwargs)
    assert journal.apply_fill(trade_id="t2", amount=1.5, price=104.0, fee=0.156, **kwargs)
    order = journal.order("tt-p1-0-0")
    assert order is not None
    assert order.filled == pytest.approx(2.0)
    assert order.average_price == pytest.approx((0.5 * 100 + 1.5 * 104) / 2.0)
    assert order.fee == pytest.approx(0.206)
    assert [f.trade_id for f in journal.fills("tt-p1-0-0")] == ["t1", "t2"]


def test_an_overfill_is_refused_and_nothing_is_written(journal: Journal) -> None:
    _order(journal, amount=1.0)
    kwargs = {"venue": "paper", "client_order_id": "tt-p1-0-0", "fee_currency": "USDT", "timestamp": NOW}
    journal.apply_fill(trade_id="t1", amount=0.8, price=100.0, fee=0.0, **kwargs)
    with pytest.raises(OverfillError):
        journal.apply_fill(trade_id="t2", amount=0.3, price=100.0, fee=0.0, **kwargs)
    order = journal.order("tt-p1-0-0")
    assert order is not None and order.filled == pytest.approx(0.8)
    assert journal.known_trade_ids("paper") == {"t1"}


def test_a_duplicate_client_order_id_rolls_back_the_whole_transaction(journal: Journal) -> None:
    _order(journal)
    with pytest.raises(StorageError):
        journal.add_order(
            client_order_id="tt-p1-0-0",
            plan_id="p1",
            intent_id=None,
            venue="paper",
            symbol="ETH/USDT",
            side="buy",
            order_type="market",
            amount=3.0,
            price=None,
            reduce_only=False,
            created_at=NOW,
        )
    assert len(journal.orders()) == 1


def test_a_locked_database_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.db"
    journal = Journal(open_store(f"sqlite:///{path}"))
    monkeypatch.setattr("trimtab.storage.database.SQLITE_BUSY_TIMEOUT_S", 0.05)
    holder = sqlite3.connect(path, timeout=0.05)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        journal.store.engine.dispose()
        with pytest.raises(StorageError, match="locked by another process"):
            journal.add_decision(timestamp=NOW, cycle=1, kind="test", reason="blocked")
    finally:
        holder.rollback()
        holder.close()
    assert journal.decisions() == []


def test_state_keeps_halt_times_and_atomic_updates(tmp_path: Path) -> None:
    state = StateStore(open_store(f"sqlite:///{tmp_path / 's.db'}"))
    assert state.halted() == (False, "")
    state.set_halted(True, "kill switch")
    assert state.halted() == (True, "kill switch")
    state.set_time("last_rebalance", NOW + timedelta(hours=1))
    assert state.get_time("last_rebalance") == NOW + timedelta(hours=1)
    assert state.update("counter", lambda v: v + 1, default=0) == 1
    assert state.update("counter", lambda v: v + 1, default=0) == 2

    def broken(_: object) -> object:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        state.update("counter", broken, default=0)
    assert state.get("counter") == 2


def test_snapshots_and_decisions_are_read_back_in_order(journal: Journal) -> None:
    journal.save_snapshot(timestamp=NOW, cycle=1, equity=100.0, halted=False, payload={"classes": []})
    journal.save_snapshot(timestamp=NOW + timedelta(hours=1), cycle=2, equity=101.0, halted=True, payload={})
    journal.add_decision(timestamp=NOW, cycle=2, kind="pause", reason="stale price")
    last = journal.last_snapshot()
    assert last is not None and last["equity"] == 101.0 and last["halted"] is True
    assert [s["cycle"] for s in journal.snapshots()] == [1, 2]
    assert journal.decisions(["pause"])[0]["reason"] == "stale price"
    assert journal.last_cycle() == 2


def test_a_bad_url_is_bad_input() -> None:
    from trimtab.errors import BadInputError

    with pytest.raises(BadInputError, match="--state"):
        open_store("not a url")


def test_a_full_database_is_a_clear_error_and_nothing_is_half_written(tmp_path: Path) -> None:
    from sqlalchemy import event

    store = open_store(f"sqlite:///{tmp_path / 'full.db'}")
    journal = Journal(store)
    journal.add_decision(timestamp=NOW, cycle=1, kind="test", reason="fits")
    store.engine.dispose()

    def cap_pages(connection: object, _record: object) -> None:
        cursor = connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA max_page_count=1")  # the file cannot grow: as good as a full disk
        cursor.close()

    event.listen(store.engine, "connect", cap_pages)
    with pytest.raises(StorageError, match="full"):
        journal.save_snapshot(timestamp=NOW, cycle=2, equity=1.0, halted=False, payload={"blob": "x" * 200_000})
    event.remove(store.engine, "connect", cap_pages)
    store.engine.dispose()
    assert journal.snapshots() == []
    assert [d["reason"] for d in journal.decisions()] == ["fits"]


def test_two_symbols_trades_that_share_an_id_are_both_journaled(journal: Journal) -> None:
    # Binance numbers trades per symbol: BTCUSDT's trade 7 and ETHUSDT's trade 7 are two different trades.
    _order(journal, client_id="tt-p1-0-0")
    journal.add_order(
        client_order_id="tt-p1-1-0",
        plan_id="p1",
        intent_id=None,
        venue="paper",
        symbol="ETH/USDT",
        side="buy",
        order_type="limit",
        amount=2.0,
        price=3000.0,
        reduce_only=False,
        created_at=NOW,
    )
    kwargs = {"venue": "paper", "fee_currency": "USDT", "timestamp": NOW, "fee": 0.0}
    assert journal.apply_fill(trade_id="7", client_order_id="tt-p1-0-0", amount=1.0, price=100.0, **kwargs)
    assert journal.apply_fill(trade_id="7", client_order_id="tt-p1-1-0", amount=2.0, price=3000.0, **kwargs)
    assert not journal.apply_fill(trade_id="7", client_order_id="tt-p1-1-0", amount=2.0, price=3000.0, **kwargs)
    eth = journal.order("tt-p1-1-0")
    assert eth is not None and eth.filled == pytest.approx(2.0)


def test_a_journal_of_the_previous_schema_is_upgraded_to_fills_per_symbol(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from trimtab.storage.database import MIGRATIONS

    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    engine.dispose()
    journal = Journal(open_store(f"sqlite:///{path}"))  # upgrades to the latest schema
    with sqlite3.connect(path) as db:
        version = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        unique = [
            [column[2] for column in db.execute(f"PRAGMA index_info('{row[1]}')")]
            for row in db.execute("PRAGMA index_list('fills')")
            if row[2]
        ]
    assert version == "0008"
    assert unique == [["venue", "symbol", "trade_id"]]
    test_two_symbols_trades_that_share_an_id_are_both_journaled(journal)
