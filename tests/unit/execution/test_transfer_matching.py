"""Finding a journaled transfer at the exchange: by its own id (Bybit), or strictly by contents (Binance).

Each case is a hand-built history around one intent made at 12:00:00 of 500 USDT from ``spot`` to ``linear``,
searched with a 5 s clock slack (so from 11:59:55).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trimtab.execution.transfer_matching import match_by_contents, match_by_id
from trimtab.storage.transfers import TransferRecord
from trimtab.venues.ports import TransferState

INTENT = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)
EARLIEST = INTENT - timedelta(seconds=5)
RECORD = TransferRecord(
    "tt-p1-x0", "p1", "binance", "USDT", 500.0, "spot", "linear", "unknown", None, 0, "", INTENT, INTENT
)


def row(exchange_id: str, seconds: float, amount: float = 500.0, status: str = "ok", **fields: str) -> TransferState:
    wallets = {"from_wallet": "spot", "to_wallet": "linear", **fields}
    moment = INTENT + timedelta(seconds=seconds)
    return TransferState(exchange_id, "USDT", amount, wallets["from_wallet"], wallets["to_wallet"], status, moment)


def test_the_one_transfer_after_the_intent_is_its() -> None:
    assert match_by_contents(RECORD, [row("7", 0.4)], set(), EARLIEST).found == row("7", 0.4)


def test_a_transfer_made_before_the_intent_is_never_taken_for_it() -> None:
    found = match_by_contents(RECORD, [row("6", -60.0), row("5", -5.001)], set(), EARLIEST)
    assert found.found is None and not found.conflict


def test_a_transfer_within_the_clock_slack_before_the_intent_counts_the_exchanges_clock_may_lag() -> None:
    assert match_by_contents(RECORD, [row("7", -4.0)], set(), EARLIEST).found == row("7", -4.0)


def test_a_transfer_another_intent_claimed_is_not_taken_twice() -> None:
    assert match_by_contents(RECORD, [row("7", 0.4)], {"7"}, EARLIEST).found is None
    # the unclaimed one of two equal transfers is the intent's
    assert match_by_contents(RECORD, [row("7", 0.4), row("8", 0.9)], {"7"}, EARLIEST).found == row("8", 0.9)


def test_two_transfers_that_fit_alike_are_a_conflict_not_a_guess() -> None:
    match = match_by_contents(RECORD, [row("7", 0.4), row("8", 0.9)], set(), EARLIEST)
    assert match.found is None
    assert "2 transfers of 500 USDT spot -> linear" in match.conflict and "7, 8" in match.conflict


def test_only_the_same_asset_wallets_and_amount_fit() -> None:
    others = [
        row("1", 1.0, amount=500.01),
        row("2", 1.0, from_wallet="linear", to_wallet="spot"),
        row("3", 1.0, to_wallet="inverse"),
        TransferState("4", "BTC", 500.0, "spot", "linear", "ok", INTENT),
    ]
    assert match_by_contents(RECORD, others, set(), EARLIEST).found is None
    # a rounding of the amount at the exchange's precision still fits (one part in 1e9)
    assert match_by_contents(RECORD, [row("5", 1.0, amount=500.0000001)], set(), EARLIEST).found is not None


def test_a_failed_transfer_moved_nothing_and_a_pending_one_is_found_pending() -> None:
    assert match_by_contents(RECORD, [row("7", 1.0, status="failed")], set(), EARLIEST).found is None
    found = match_by_contents(RECORD, [row("7", 1.0, status="pending")], set(), EARLIEST).found
    assert found is not None and found.status == "pending"


def test_a_transfer_without_a_time_cannot_be_shown_to_follow_the_intent() -> None:
    undated = TransferState("7", "USDT", 500.0, "spot", "linear", "ok", None)
    assert match_by_contents(RECORD, [undated], set(), EARLIEST).found is None


def test_a_row_listed_twice_is_one_transfer() -> None:
    assert match_by_contents(RECORD, [row("7", 1.0), row("7", 1.0)], set(), EARLIEST).found == row("7", 1.0)


def test_by_id_the_transfer_under_its_own_id_must_be_the_intents() -> None:
    assert match_by_id(RECORD, None, set()).found is None
    assert match_by_id(RECORD, row("uuid-1", 30.0), set()).found == row("uuid-1", 30.0)  # time does not matter
    wrong = match_by_id(RECORD, row("uuid-1", 1.0, amount=50.0), set())
    assert wrong.found is None and "lists 50 USDT spot -> linear under this id, not 500 USDT" in wrong.conflict
    assert "already another intent's" in match_by_id(RECORD, row("uuid-1", 1.0), {"uuid-1"}).conflict
