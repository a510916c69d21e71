"""Transfers between Bybit's funding account and its unified account, through ccxt's real ``bybit`` class.

Bybit keeps the client's ``transferId`` (a UUID) with each transfer: trimtab sends the UUID derived from the
journal's transfer id and, after an ambiguous answer, asks for that id; a transfer is never found by its
amount, so one made by someone else in the same amount is never taken for it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trimtab.errors import TransferRejectedError
from trimtab.execution.transfers import TransferExecutor, TransferSettings
from trimtab.storage import open_store
from trimtab.storage.transfers import TransferJournal
from trimtab.testing.fake_bybit import FakeBybit
from trimtab.testing.faults import Fault
from trimtab.testing.fixtures import CANARY_API_KEY, make_bybit_venue
from trimtab.venues.bybit.rules import transfer_uuid
from trimtab.venues.ccxt import CcxtVenue
from trimtab.venues.ports import TransferRequest

RECORDED = Path(__file__).parents[2] / "data" / "recorded" / "bybit"
SEND = "/v5/asset/transfer/inter-transfer"
LIST = "/v5/asset/transfer/query-inter-transfer-list"
FAST = TransferSettings(resolve_attempts=4, resolve_backoff_s=0.01, lost_after_s=0.2)
SHORT_GRACE = TransferSettings(resolve_attempts=4, resolve_backoff_s=0.03, lost_after_s=0.05)


@pytest.fixture
def fake() -> Iterator[FakeBybit]:
    with FakeBybit(api_key=CANARY_API_KEY) as server:
        server.engine.funding["USDT"] = 30_000.0  # a deposit waiting in the funding account
        yield server


@pytest.fixture
def venue(fake: FakeBybit) -> Iterator[CcxtVenue]:
    built = make_bybit_venue(fake, timeout_ms=400)
    yield built
    built.close()


@pytest.fixture
def journal(tmp_path: Path) -> TransferJournal:
    return TransferJournal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))


def executor(venue: CcxtVenue, journal: TransferJournal, settings: TransferSettings = FAST) -> TransferExecutor:
    return TransferExecutor(venue, journal, now=lambda: datetime.now(UTC), settings=settings, sleep=lambda s: None)


def fund(transfer_id: str, amount: float) -> TransferRequest:
    return TransferRequest(transfer_id, "USDT", amount, "fund", "unified")


def test_the_transfer_id_is_a_uuid_derived_from_the_journals_id_the_same_on_every_run() -> None:
    first, again = transfer_uuid("tt-p1-x0"), transfer_uuid("tt-p1-x0")
    assert first == again and uuid.UUID(first).version == 5
    assert transfer_uuid("tt-p1-x1") != first


def test_a_transfer_carries_its_uuid_moves_the_coin_and_is_found_by_it(fake: FakeBybit, venue: CcxtVenue) -> None:
    state = venue.transfer(fund("tt-b1-x0", 12_500.5))
    (sent,) = [r for r in fake.requests if r.path == SEND]
    assert sent.params == {
        "transferId": transfer_uuid("tt-b1-x0"),
        "coin": "USDT",
        "amount": "12500.5",
        "fromAccountType": "FUND",
        "toAccountType": "UNIFIED",
    }
    assert (state.exchange_id, state.status) == (transfer_uuid("tt-b1-x0"), "ok")
    assert fake.engine.funding["USDT"] == pytest.approx(17_500.0 - 0.5)
    assert fake.engine.wallet["USDT"] == pytest.approx(62_500.5)
    found = venue.fetch_transfer("tt-b1-x0", "USDT", "fund", "unified")
    assert found is not None and (found.amount, found.from_wallet, found.to_wallet) == (12_500.5, "fund", "unified")
    (asked,) = [r for r in fake.requests if r.path == LIST]
    assert asked.params["transferId"] == transfer_uuid("tt-b1-x0")  # asked for by its id, not searched
    assert venue.fetch_transfer("tt-never-sent", "USDT", "fund", "unified") is None


def test_a_timed_out_transfer_is_found_by_its_id_not_resent(
    fake: FakeBybit, venue: CcxtVenue, journal: TransferJournal
) -> None:
    fake.add_fault(Fault("timeout", "POST", SEND, accept=True, delay=0.8))
    record = executor(venue, journal).execute(fund("tt-b2-x0", 700.0))
    assert record.status == "done" and "transfer" in record.last_error
    assert record.exchange_transfer_id == transfer_uuid("tt-b2-x0")
    assert fake.count("POST", SEND) == 1 and fake.transfers_with_id(transfer_uuid("tt-b2-x0")) == 1


def test_a_lost_answer_is_found_by_its_id(fake: FakeBybit, venue: CcxtVenue, journal: TransferJournal) -> None:
    fake.add_fault(Fault("drop", "POST", SEND, accept=True))
    record = executor(venue, journal).execute(fund("tt-b3-x0", 900.0))
    assert record.status == "done" and fake.count("POST", SEND) == 1


def test_a_5xx_that_never_reached_bybit_ends_lost_and_moved_nothing(
    fake: FakeBybit, venue: CcxtVenue, journal: TransferJournal
) -> None:
    fake.add_fault(Fault("http_error", "POST", SEND, accept=False, status=502))
    record = TransferExecutor(venue, journal, now=lambda: datetime.now(UTC), settings=SHORT_GRACE).execute(
        fund("tt-b4-x0", 800.0)
    )
    assert record.status == "lost" and record.misses >= 1
    assert fake.engine.transfers == [] and fake.engine.funding["USDT"] == 30_000.0
    assert fake.count("POST", SEND) == 1


def test_an_equal_transfer_made_by_someone_else_is_never_taken_for_a_lost_one(
    fake: FakeBybit, venue: CcxtVenue, journal: TransferJournal
) -> None:
    # the request never reached Bybit; meanwhile the owner moved the same 800 USDT by hand (another transferId)
    fake.add_fault(Fault("http_error", "POST", SEND, accept=False, status=502))
    other = {"transferId": str(uuid.uuid4()), "coin": "USDT", "amount": "800"}
    fake.handle("POST", SEND, {**other, "fromAccountType": "FUND", "toAccountType": "UNIFIED"}, CANARY_API_KEY)
    record = TransferExecutor(venue, journal, now=lambda: datetime.now(UTC), settings=SHORT_GRACE).execute(
        fund("tt-b5-x0", 800.0)
    )
    assert record.status == "lost" and record.exchange_transfer_id is None


def test_a_transfer_bybit_still_calls_pending_stays_unknown_until_it_settles(
    fake: FakeBybit, venue: CcxtVenue, journal: TransferJournal
) -> None:
    fake.add_fault(Fault("timeout", "POST", SEND, accept=True, delay=0.8))
    pending_row = {"transferId": transfer_uuid("tt-b6-x0"), "coin": "USDT", "amount": "600"}
    now = str(int(datetime.now(UTC).timestamp() * 1000))
    pending_row |= {"fromAccountType": "FUND", "toAccountType": "UNIFIED", "timestamp": now, "status": "PENDING"}
    fake.replay("GET", LIST, {"retCode": 0, "retMsg": "success", "result": {"list": [pending_row]}, "time": 1})
    record = executor(venue, journal).execute(fund("tt-b6-x0", 600.0))
    assert (record.status, record.misses, record.last_error) == ("unknown", 0, "pending at the exchange")
    del fake.replays[("GET", LIST)]  # Bybit settles it
    assert executor(venue, journal).resolve(record).status == "done"
    assert fake.count("POST", SEND) == 1


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (fund("tt-b7-x0", 1_000_000.0), "131212"),  # more than the funding account holds
        (TransferRequest("tt-b7-x1", "USDT", 10.0, "unified", "unified"), "131211"),  # same account type
        (TransferRequest("tt-b7-x2", "USDT", 10.0, "fund", "option"), "131207"),  # an account this one has not
    ],
)
def test_bybits_refusals_are_definitive(
    fake: FakeBybit, venue: CcxtVenue, journal: TransferJournal, request_: TransferRequest, code: str
) -> None:
    record = executor(venue, journal).execute(request_)
    assert record.status == "rejected" and code in record.last_error
    assert fake.engine.transfers == [] and fake.count("POST", SEND) == 1


def test_the_same_transfer_id_twice_is_refused_by_bybit(fake: FakeBybit, venue: CcxtVenue) -> None:
    venue.transfer(fund("tt-b8-x0", 100.0))
    with pytest.raises(TransferRejectedError, match="131214"):
        venue.transfer(fund("tt-b8-x0", 100.0))
    assert len(fake.engine.transfers) == 1


@pytest.mark.parametrize(
    ("fields", "code"),
    [({"transferId": "tt-not-a-uuid"}, 131203), ({"amount": "-5"}, 131215), ({"amount": "x"}, 131215)],
)
def test_the_fake_refuses_malformed_transfers_as_bybit_does(fake: FakeBybit, fields: dict[str, str], code: int) -> None:
    body = {"transferId": str(uuid.uuid4()), "coin": "USDT", "amount": "5", "fromAccountType": "FUND"}
    body |= {"toAccountType": "UNIFIED", **fields}
    assert fake.handle("POST", SEND, body, CANARY_API_KEY)["retCode"] == code


def test_recorded_transfer_answers_parse_as_bybit_wrote_them(fake: FakeBybit, venue: CcxtVenue) -> None:
    posted = json.loads((RECORDED / "v5_asset_transfer_inter-transfer.json").read_text())["response"]
    listed = json.loads((RECORDED / "v5_asset_transfer_query-inter-transfer-list.json").read_text())["response"]
    fake.replay("POST", SEND, posted)
    fake.replay("GET", LIST, listed)
    state = venue.transfer(fund("tt-b9-x0", 0.05))
    assert (state.exchange_id, state.status) == (posted["result"]["transferId"], "ok")  # "SUCCESS"
    (row,) = listed["result"]["list"]
    (seen,) = venue.fetch_transfers("USDT", "spot", "unified")
    assert (seen.exchange_id, seen.amount, seen.status) == (row["transferId"], float(row["amount"]), "ok")
    assert (seen.from_wallet, seen.to_wallet) == ("spot", "unified")  # SPOT -> UNIFIED
    assert seen.timestamp == datetime.fromtimestamp(int(row["timestamp"]) / 1000, tz=UTC)
