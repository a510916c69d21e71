"""Transfers between Binance wallets through ccxt's ``transfer``, journaled like orders, against the fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trimtab.errors import TransferRejectedError
from trimtab.execution.transfers import TransferExecutor, TransferSettings
from trimtab.storage import open_store
from trimtab.storage.transfers import TransferJournal
from trimtab.testing.fake_exchange import FakeExchange, Fault
from trimtab.testing.fake_exchange import transfers as fake_transfers
from trimtab.testing.fixtures import make_ccxt_venue
from trimtab.venues.ccxt import CcxtVenue
from trimtab.venues.ports import TransferRequest

RECORDED = Path(__file__).parents[2] / "data" / "recorded" / "binance"
FAST = TransferSettings(resolve_attempts=4, resolve_backoff_s=0.01, lost_after_s=0.2)
SHORT_GRACE = TransferSettings(resolve_attempts=4, resolve_backoff_s=0.03, lost_after_s=0.05)


@pytest.fixture
def venue(fake_exchange: FakeExchange) -> Iterator[CcxtVenue]:
    built = make_ccxt_venue(fake_exchange, "binance")
    yield built
    built.close()


@pytest.fixture
def journal(tmp_path: Path) -> TransferJournal:
    return TransferJournal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))


def _executor(venue: CcxtVenue, journal: TransferJournal) -> TransferExecutor:
    return TransferExecutor(venue, journal, now=lambda: datetime.now(UTC), settings=FAST, sleep=lambda s: None)


def test_a_transfer_moves_usdt_from_spot_to_usdm_and_is_listed(venue: CcxtVenue, fake_exchange: FakeExchange) -> None:
    engine = fake_exchange.engine
    spot, usdm = engine.spot_balances["USDT"], engine.futures_wallet["USDT"]
    state = venue.transfer(TransferRequest("tt-x1", "USDT", 1_250.5, "spot", "linear"))
    assert state.status == "ok" and state.exchange_id is not None
    assert engine.spot_balances["USDT"] == pytest.approx(spot - 1_250.5)
    assert engine.futures_wallet["USDT"] == pytest.approx(usdm + 1_250.5)
    (sent,) = [r for r in fake_exchange.requests if r.method == "POST" and r.path == "/sapi/v1/asset/transfer"]
    assert sent.params == {"asset": "USDT", "amount": "1250.5", "type": "MAIN_UMFUTURE"}  # Binance's type
    (listed,) = venue.fetch_transfers("USDT", "spot", "linear")
    assert (listed.exchange_id, listed.amount, listed.status) == (state.exchange_id, 1_250.5, "ok")
    assert venue.fetch_transfers("USDT", "linear", "spot") == []


def test_coinm_wallet_receives_coins(venue: CcxtVenue, fake_exchange: FakeExchange) -> None:
    venue.transfer(TransferRequest("tt-x2", "BTC", 0.25, "spot", "inverse"))
    assert fake_exchange.engine.coinm_wallet["BTC"] == pytest.approx(0.75)  # 0.5 funded + 0.25
    assert fake_exchange.requests[-1].params["type"] == "MAIN_CMFUTURE"


def test_recorded_transfer_answers_parse_as_binance_wrote_them(venue: CcxtVenue, fake_exchange: FakeExchange) -> None:
    posted = json.loads((RECORDED / "sapi_v1_asset_transfer_post.json").read_text())["response"]
    history = json.loads((RECORDED / "sapi_v1_asset_transfer_get.json").read_text())["response"]
    fake_exchange.replay("POST", "/sapi/v1/asset/transfer", posted)
    fake_exchange.replay("GET", "/sapi/v1/asset/transfer", history)
    state = venue.transfer(TransferRequest("tt-x3", "USDT", 1.0, "spot", "linear"))
    assert state.exchange_id == str(posted["tranId"]) == "13526853623"
    listed = venue.fetch_transfers("USDT", "spot", "linear")
    assert [(t.exchange_id, t.amount, t.status) for t in listed] == [
        (str(row["tranId"]), float(row["amount"]), "ok")
        for row in history["rows"]  # "CONFIRMED"
    ]
    assert all(t.from_wallet == "spot" and t.to_wallet == "linear" for t in listed)  # type MAIN_UMFUTURE


def test_a_transfer_above_the_releasable_balance_is_refused(venue: CcxtVenue, fake_exchange: FakeExchange) -> None:
    with pytest.raises(TransferRejectedError, match="insufficient balance"):
        venue.transfer(TransferRequest("tt-x4", "USDT", 1_000_000.0, "spot", "linear"))
    assert fake_exchange.engine.futures_wallet["USDT"] == 50_000.0


def test_the_executor_journals_first_and_records_the_exchange_id(
    venue: CcxtVenue, journal: TransferJournal, fake_exchange: FakeExchange
) -> None:
    record = _executor(venue, journal).execute(TransferRequest("tt-p1-t0", "USDT", 500.0, "spot", "linear"), "p1")
    assert record.status == "done" and record.exchange_transfer_id == str(fake_exchange.engine.transfers[0].tran_id)
    again = _executor(venue, journal).execute(TransferRequest("tt-p1-t0", "USDT", 500.0, "spot", "linear"), "p1")
    assert again == record and len(fake_exchange.engine.transfers) == 1  # a journaled id is never resent


def test_a_timed_out_transfer_is_found_in_the_history_not_resent(
    venue: CcxtVenue, journal: TransferJournal, fake_exchange: FakeExchange
) -> None:
    fake_exchange.add_fault(Fault("timeout", "POST", "/sapi/v1/asset/transfer", accept=True, delay=2.0))
    record = _executor(venue, journal).execute(TransferRequest("tt-p2-t0", "USDT", 700.0, "spot", "linear"))
    assert record.status == "done" and "transfer" in record.last_error
    assert fake_exchange.count("POST", "/sapi/v1/asset/transfer") == 1
    assert record.exchange_transfer_id == str(fake_exchange.engine.transfers[0].tran_id)


def test_a_5xx_that_never_reached_the_wallets_ends_lost_after_lookups(
    venue: CcxtVenue, journal: TransferJournal, fake_exchange: FakeExchange
) -> None:
    fake_exchange.add_fault(Fault("http_error", "POST", "/sapi/v1/asset/transfer", accept=False, status=502))
    executor = TransferExecutor(venue, journal, now=lambda: datetime.now(UTC), settings=SHORT_GRACE)
    record = executor.execute(TransferRequest("tt-p3-t0", "USDT", 800.0, "spot", "linear"))
    assert record.status == "lost" and record.misses >= 1
    assert fake_exchange.engine.transfers == [] and fake_exchange.engine.futures_wallet["USDT"] == 50_000.0
    assert fake_exchange.count("POST", "/sapi/v1/asset/transfer") == 1


def test_an_ambiguous_transfer_does_not_claim_an_earlier_equal_one(
    venue: CcxtVenue, journal: TransferJournal, fake_exchange: FakeExchange
) -> None:
    executor = _executor(venue, journal)
    first = executor.execute(TransferRequest("tt-p4-t0", "USDT", 300.0, "spot", "linear"))
    fake_exchange.add_fault(Fault("http_error", "POST", "/sapi/v1/asset/transfer", accept=False, status=503))
    second = TransferExecutor(venue, journal, now=lambda: datetime.now(UTC), settings=SHORT_GRACE).execute(
        TransferRequest("tt-p4-t1", "USDT", 300.0, "spot", "linear")
    )
    assert first.status == "done" and second.status == "lost"  # the equal earlier transfer is first's, not its
    assert second.exchange_transfer_id is None


def test_a_refused_transfer_is_journaled_rejected(venue: CcxtVenue, journal: TransferJournal) -> None:
    record = _executor(venue, journal).execute(TransferRequest("tt-p5-t0", "USDT", 9e9, "spot", "linear"))
    assert record.status == "rejected" and "insufficient" in record.last_error


def _by_hand(fake_exchange: FakeExchange, amount: float, clock_shift_s: float = 0.0) -> None:
    """A transfer the account's owner makes outside trimtab (the exchange's clock shifted for its stamp)."""
    engine = fake_exchange.engine
    clock = engine.clock
    engine.clock = lambda: clock() + clock_shift_s
    try:
        with engine._lock:
            fake_transfers.transfer(engine, {"type": "MAIN_UMFUTURE", "asset": "USDT", "amount": str(amount)})
    finally:
        engine.clock = clock


def test_two_equal_transfers_after_a_lost_answer_are_not_told_apart_by_guessing(
    venue: CcxtVenue, journal: TransferJournal, fake_exchange: FakeExchange
) -> None:
    _by_hand(fake_exchange, 400.0)
    _by_hand(fake_exchange, 400.0)
    fake_exchange.add_fault(Fault("http_error", "POST", "/sapi/v1/asset/transfer", accept=False, status=503))
    record = _executor(venue, journal).execute(TransferRequest("tt-p6-t0", "USDT", 400.0, "spot", "linear"))
    assert record.status == "unknown" and record.exchange_transfer_id is None  # neither done nor lost
    assert record.last_error.startswith("needs a human: 2 transfers of 400 USDT spot -> linear")
    assert record.misses == 0 and fake_exchange.count("POST", "/sapi/v1/asset/transfer") == 1


def test_an_equal_transfer_from_before_the_intent_is_not_taken_for_it(
    venue: CcxtVenue, journal: TransferJournal, fake_exchange: FakeExchange
) -> None:
    _by_hand(fake_exchange, 450.0, clock_shift_s=-60.0)  # a minute before the intent
    fake_exchange.add_fault(Fault("http_error", "POST", "/sapi/v1/asset/transfer", accept=False, status=503))
    record = TransferExecutor(venue, journal, now=lambda: datetime.now(UTC), settings=SHORT_GRACE).execute(
        TransferRequest("tt-p7-t0", "USDT", 450.0, "spot", "linear")
    )
    assert record.status == "lost" and record.exchange_transfer_id is None


def test_a_history_that_cannot_be_read_is_no_evidence_of_absence(
    venue: CcxtVenue, journal: TransferJournal, fake_exchange: FakeExchange
) -> None:
    fake_exchange.add_fault(Fault("timeout", "POST", "/sapi/v1/asset/transfer", accept=True, delay=2.0))
    fake_exchange.add_fault(Fault("http_error", "GET", "/sapi/v1/asset/transfer", accept=False, status=503, times=8))
    impatient = TransferSettings(resolve_attempts=4, resolve_backoff_s=0.0, lost_after_s=0.0)
    record = TransferExecutor(venue, journal, now=lambda: datetime.now(UTC), settings=impatient).execute(
        TransferRequest("tt-p8-t0", "USDT", 650.0, "spot", "linear")
    )
    # two lookups failed (four reads each): not misses, so not lost at once; the third found it
    assert record.status == "done" and record.misses == 0
    assert record.exchange_transfer_id == str(fake_exchange.engine.transfers[0].tran_id)
