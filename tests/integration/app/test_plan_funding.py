"""A plan's transfers wait while an earlier transfer is unresolved: the same collateral never moves twice.

Against the fake Binance's wallets (one ccxt connection each, as one book): a transfer whose answer was lost
and that the history cannot tell apart from two equal ones made by hand stays unresolved; the next plan's
transfer is not sent, and its orders wait, until that one is settled.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trimtab.app.funding import PlanFunding
from trimtab.domain.plan import Transfer
from trimtab.execution.transfers import TransferSettings
from trimtab.storage import open_store
from trimtab.storage.transfers import TransferJournal
from trimtab.testing.fake_exchange import FakeExchange, Fault
from trimtab.testing.fake_exchange import transfers as fake_transfers
from trimtab.testing.fixtures import CANARY_API_KEY, make_ccxt_venue
from trimtab.venues.book import AccountBook, BookAccount

SEND = "/sapi/v1/asset/transfer"


class RunClock:
    """The run's clock: the wall clock, moved ahead by ``shift`` (the time between two cycles)."""

    shift = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
def fake_exchange() -> Iterator[FakeExchange]:
    with FakeExchange(api_key=CANARY_API_KEY) as fake:
        yield fake


@pytest.fixture
def clock() -> RunClock:
    return RunClock()


@pytest.fixture
def funding(fake_exchange: FakeExchange, clock: RunClock, tmp_path: Path) -> Iterator[PlanFunding]:
    book = AccountBook(
        "binance",
        [
            BookAccount("binance-spot", "binance", "spot", make_ccxt_venue(fake_exchange, "binance")),
            BookAccount("binance-usdm", "binance", "linear", make_ccxt_venue(fake_exchange, "binanceusdm")),
        ],
    )
    settings = TransferSettings(resolve_attempts=3, resolve_backoff_s=0.0, lost_after_s=30.0)
    store = open_store(f"sqlite:///{tmp_path / 'journal.db'}")
    yield PlanFunding(book, store, now=clock, sleep=lambda s: None, settings=settings)
    book.close()


def _by_hand(fake_exchange: FakeExchange, amount: float) -> None:
    with fake_exchange.engine._lock:
        fake_transfers.transfer(fake_exchange.engine, {"type": "MAIN_UMFUTURE", "asset": "USDT", "amount": str(amount)})


def test_no_transfer_is_sent_while_an_earlier_one_is_unresolved(
    funding: PlanFunding, fake_exchange: FakeExchange
) -> None:
    move = Transfer("USDT", 400.0, "binance-spot", "binance-usdm")
    _by_hand(fake_exchange, 400.0)
    _by_hand(fake_exchange, 400.0)
    fake_exchange.add_fault(Fault("http_error", "POST", SEND, accept=False, status=503))
    (first,) = funding.fund("p1", [move])
    assert "tt-p1-x0" in first and "needs a human" in first
    (waiting,) = funding.fund("p2", [move])  # a later plan: its transfer waits for the first to be settled
    assert waiting.startswith("transfer tt-p1-x0 of 400 USDT is still unknown (needs a human: 2 transfers")
    assert fake_exchange.count("POST", SEND) == 1
    assert [t.transfer_id for t in funding.journal.all()] == ["tt-p1-x0"]


def test_once_settled_the_next_plans_transfer_goes(
    funding: PlanFunding, fake_exchange: FakeExchange, clock: RunClock
) -> None:
    fake_exchange.add_fault(Fault("http_error", "POST", SEND, accept=False, status=503))
    move = Transfer("USDT", 400.0, "binance-spot", "binance-usdm")
    assert funding.fund("p1", [move])  # unknown: absent, within its grace period
    clock.shift = timedelta(minutes=1)  # the next cycle: absent past its grace period, so lost
    assert funding.fund("p2", [move]) == []
    journal: TransferJournal = funding.journal
    assert [(t.transfer_id, t.status) for t in journal.all()] == [("tt-p1-x0", "lost"), ("tt-p2-x0", "done")]
    assert len(fake_exchange.engine.transfers) == 1
