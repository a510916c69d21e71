"""Which of the exchange's transfers is a journaled one whose answer was lost: by its id, or strictly by contents.

An exchange that keeps the client's transfer id (Bybit's ``transferId``) is asked for that id, and what it
lists under it must be the journaled transfer (asset, wallets, amount): anything else is a conflict for a
person. An exchange that keeps none (Binance's universal transfer) is searched by contents, strictly:

- a transfer that predates the intent (more than the clock slack before it) is never the intent's;
- a transfer another journaled transfer has claimed is never taken again (one transfer, one intent);
- a transfer whose time is unknown cannot be shown to follow the intent, so it is not taken;
- two or more transfers that fit equally are not told apart by guessing: the lookup reports a conflict and
  the transfer stays unresolved (nothing is resent, nothing is declared lost, the plan's orders wait).

Pure functions of the journal's record and the exchange's answer; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from trimtab.storage.transfers import TransferRecord
from trimtab.venues.ports import TransferState

LIVE_STATUSES = frozenset({"ok", "pending"})
"""Statuses of a transfer that moved, or may still move, the asset (a failed one moved nothing)."""


@dataclass(frozen=True)
class TransferMatch:
    """The journaled transfer as the exchange shows it (None: not shown), or why no answer can be trusted."""

    found: TransferState | None = None
    conflict: str = ""


def same_contents(record: TransferRecord, state: TransferState) -> bool:
    """Whether ``state`` moved the record's asset, between its wallets, in its amount (to a part in 1e9)."""
    tolerance = 1e-9 * max(abs(record.amount), 1.0)
    return (
        state.asset == record.asset
        and state.from_wallet == record.from_wallet
        and state.to_wallet == record.to_wallet
        and abs(state.amount - record.amount) <= tolerance
    )


def match_by_id(record: TransferRecord, found: TransferState | None, claimed: set[str]) -> TransferMatch:
    """Check what the exchange lists under the record's own transfer id."""
    if found is None:
        return TransferMatch()
    if found.exchange_id is not None and found.exchange_id in claimed:
        return TransferMatch(conflict=f"the exchange's transfer {found.exchange_id} is already another intent's")
    if not same_contents(record, found):
        return TransferMatch(
            conflict=(
                f"the exchange lists {found.amount:g} {found.asset} {found.from_wallet} -> {found.to_wallet} under "
                f"this id, not {record.amount:g} {record.asset} {record.from_wallet} -> {record.to_wallet}"
            )
        )
    return TransferMatch(found)


def match_by_contents(
    record: TransferRecord, seen: Sequence[TransferState], claimed: set[str], earliest: datetime
) -> TransferMatch:
    """The one unclaimed live transfer in ``seen`` with the record's contents, made at or after ``earliest``
    (the intent's time less the clock slack); a conflict when several fit."""
    candidates: dict[str, TransferState] = {}
    for state in seen:
        if state.exchange_id is None or state.exchange_id in claimed or state.status not in LIVE_STATUSES:
            continue
        if state.timestamp is None or state.timestamp < earliest or not same_contents(record, state):
            continue
        candidates[state.exchange_id] = state  # a row listed twice (pages overlapping) is one transfer
    if len(candidates) > 1:
        ids = ", ".join(sorted(candidates))
        return TransferMatch(
            conflict=(
                f"{len(candidates)} transfers of {record.amount:g} {record.asset} {record.from_wallet} -> "
                f"{record.to_wallet} since its intent ({ids}) and nothing tells which is its"
            )
        )
    return TransferMatch(next(iter(candidates.values()), None))
