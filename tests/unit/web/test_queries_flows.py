"""The dashboard's return with cash flows: time-weighted, worked by hand on four valuations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from trimtab.storage import Store, open_store
from trimtab.storage.journal import Journal
from trimtab.web import queries
from trimtab.web.controls import Controls

START = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[Store]:
    opened = open_store("sqlite://")
    yield opened
    opened.close()


def test_a_deposit_the_run_took_is_not_a_gain(store: Store) -> None:
    journal = Journal(store)
    # Cycle 1: 100 000. Cycle 2: 110 000 (+10 %). Cycle 3 takes a deposit of 50 000 at its start and values
    # 159 500 before its trades and 159 400 after them (-0.45 %, then the fees). Cycle 4: 167 370 (+5 %).
    for cycle, equity in ((1, 100_000.0), (2, 110_000.0), (3, 159_500.0), (3, 159_400.0), (4, 167_370.0)):
        moment = START + timedelta(hours=cycle)
        payload = {"base_currency": "USDT", "classes": []}
        journal.save_snapshot(timestamp=moment, cycle=cycle, equity=equity, halted=False, payload=payload)
    Controls(store, source="cli").record_flow(50_000.0)  # the recording alone is no flow taken yet
    journal.add_decision(
        timestamp=START + timedelta(hours=3),
        cycle=3,
        kind="cash_flow",
        reason="deposit of 50000.00 USDT credited",
        payload={"taken": True, "flow": 1, "amount": 50_000.0, "credited": True},
    )
    performance = queries.performance(store)
    by_hand = 1.10 * (109_500 / 110_000) * (159_400 / 159_500) * (167_370 / 159_400) - 1.0
    assert performance["return"] == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(0.14903, abs=1e-5)
    assert performance["net_flows"] == 50_000.0
