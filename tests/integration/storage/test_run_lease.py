"""The run lease on SQLite and PostgreSQL: every order's intent is fenced by it, a lapsed one can be taken."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from trimtab.app.lock import InstanceLock, InstanceLockedError, JournalReplacedError, LockLostError
from trimtab.storage import Store, open_store
from trimtab.storage.journal import Journal
from trimtab.storage.models import LeaseRow

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journal.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def _order(journal: Journal, number: int) -> None:
    journal.add_order(
        client_order_id=f"tt-p1-0-{number}",
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


def _steal(store: Store, name: str = "run") -> None:
    """What a second run does once this run's lease lapsed: take the row over with the next token."""
    with store.transaction() as session:
        session.execute(
            sa.update(LeaseRow)
            .where(LeaseRow.name == name)
            .values(holder="other", token=LeaseRow.token + 1, pid=4242, host="elsewhere")
        )


def test_an_order_is_journaled_only_while_the_lease_is_ours(url: str) -> None:
    store = open_store(url)
    lease = InstanceLock(store, lease_s=5)
    lease.acquire()
    journal = Journal(store)
    try:
        _order(journal, 0)
        _steal(open_store(url))
        with pytest.raises(LockLostError, match="taken over by process 4242 on elsewhere"):
            _order(journal, 1)
        assert [o.client_order_id for o in journal.orders()] == ["tt-p1-0-0"]  # the fenced write left nothing
        assert lease.stopping() is not None and "taken over" in str(lease.stopping())
        with pytest.raises(LockLostError):
            lease.raise_if_lost()
    finally:
        lease.release()
    with store.transaction() as session:  # releasing never clears another holder's lease
        assert session.get(LeaseRow, "run").holder == "other"  # type: ignore[union-attr]


def test_a_second_holder_is_refused_until_the_lease_lapses(url: str) -> None:
    store = open_store(url)
    with store.transaction() as session:  # a holder on another machine that stopped renewing 1 s from now
        session.add(LeaseRow(name="run", holder="gone", token=7, pid=99, host="elsewhere", machine="other-machine",
                             acquired_at=NOW, expires_at=datetime.now(UTC) + timedelta(seconds=1)))  # fmt: skip
    second = InstanceLock(store, lease_s=5)
    with pytest.raises(InstanceLockedError, match="process 99 on elsewhere"):
        second._take()
    time.sleep(1.2)
    second._take()
    assert second.token == 8  # the next fencing token


def test_a_dead_holder_on_this_machine_is_taken_over_at_once(url: str) -> None:
    store = open_store(url)
    first = InstanceLock(store, lease_s=600)
    first._take()
    # Its process died without releasing (SIGKILL); the same machine can see that it is gone.
    with store.transaction() as session:
        session.execute(sa.update(LeaseRow).values(pid=2**22 + 17))
    second = InstanceLock(store, lease_s=600)
    second._take()
    assert second.token == first.token + 1


def test_the_lease_is_renewed_in_the_background(url: str) -> None:
    store = open_store(url)
    lease = InstanceLock(store, lease_s=1)
    lease.acquire()
    try:
        time.sleep(2.5)  # more than two lease lengths
        with pytest.raises(InstanceLockedError):
            InstanceLock(store, lease_s=1)._take()
        assert lease.stopping() is None
    finally:
        lease.release()
    InstanceLock(store, lease_s=1)._take()  # released: free at once


def test_a_deleted_journal_file_stops_the_trading(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    store = open_store(f"sqlite:///{path}")
    lease = InstanceLock(store, lease_s=5)
    lease.acquire()
    try:
        assert lease.stopping() is None
        path.unlink()
        assert "journal.db was deleted" in str(lease.stopping())
        with pytest.raises(JournalReplacedError, match="deleted while this run was using it"):
            _order(Journal(store), 0)
    finally:
        lease.release()


def test_a_transfer_is_journaled_only_while_the_lease_is_ours(url: str) -> None:
    from trimtab.storage.transfers import TransferJournal

    store = open_store(url)
    lease = InstanceLock(store, lease_s=5)
    lease.acquire()
    transfers = TransferJournal(store)
    args = {"plan_id": "p1", "exchange": "binance", "asset": "USDT", "amount": 10.0, "created_at": NOW}
    try:
        transfers.add(transfer_id="tt-x-1", from_wallet="spot", to_wallet="future", **args)
        _steal(open_store(url))
        with pytest.raises(LockLostError):
            transfers.add(transfer_id="tt-x-2", from_wallet="spot", to_wallet="future", **args)
        assert [t.transfer_id for t in transfers.all()] == ["tt-x-1"]
    finally:
        lease.release()
