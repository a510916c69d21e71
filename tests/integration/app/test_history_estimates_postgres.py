"""The run's price history read back from a PostgreSQL journal (127.0.0.1:5432, database ``test``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trimtab.app.estimates import journal_prices
from trimtab.storage import open_store
from trimtab.storage.journal import Journal

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def test_the_prices_of_recent_unpaused_cycles_come_back_oldest_first(pg_url: str) -> None:
    store = open_store(pg_url)
    journal = Journal(store)
    for hour in range(6):
        when = NOW - timedelta(hours=6 - hour)
        payload = {"prices": {"BTC": 50_000.0 + hour, "USDT": 1.0}, "classes": []}
        journal.save_snapshot(timestamp=when, cycle=hour + 1, equity=1.0, halted=False, payload=payload)
    journal.add_decision(timestamp=NOW - timedelta(hours=2), cycle=5, kind="pause", reason="BTC is an outlier")
    rows = journal_prices(store, NOW - timedelta(hours=4))
    assert [when for when, _ in rows] == [NOW - timedelta(hours=4), NOW - timedelta(hours=3), NOW - timedelta(hours=1)]
    assert [prices["BTC"] for _, prices in rows] == [50_002.0, 50_003.0, 50_005.0]
    store.close()
