"""Transfers between the wallets of one exchange, journaled like orders: intent first, never sent twice.

:meth:`TransferExecutor.execute` commits the transfer's row (``pending``) before the request leaves, sends it
once, and records the exchange's id. An answer that may or may not mean "done" (timeout, 5xx, a crash after
sending) is resolved by looking the transfer up in the exchange's history (asset, wallets, amount, time, an
exchange id no other journaled transfer has claimed), with bounded backoff; a transfer still absent
``lost_after_s`` after its intent never happened (``lost``), and the next plan, computed from the balances,
decides afresh. Nothing here ever resends a journaled transfer.

Crash points (:mod:`trimtab.execution.crash`): ``transfer_after_intent`` (row committed, request not sent)
and ``transfer_after_accept`` (the exchange accepted it, its answer is not saved).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from trimtab.errors import AmbiguousTransferError, RetryableError, TransferRejectedError
from trimtab.execution.crash import crash_point
from trimtab.storage.transfers import TransferJournal, TransferRecord
from trimtab.venues.ports import TransferRequest, TransferState


class TransferVenue(Protocol):
    """What the executor needs of a venue: send a transfer, and list the exchange's transfers."""

    name: str

    def transfer(self, request: TransferRequest) -> TransferState: ...

    def fetch_transfers(
        self, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> list[TransferState]: ...


@dataclass(frozen=True)
class TransferSettings:
    """Lookups after an ambiguous answer: how many, how far apart, and when absence means "never happened"."""

    resolve_attempts: int = 5
    resolve_backoff_s: float = 0.2
    lost_after_s: float = 2.0
    clock_slack_s: float = 5.0
    """How far before the intent's time the history is searched (the exchange's clock may differ)."""


class TransferExecutor:
    """Send journaled transfers through a venue and resolve those whose outcome is unknown."""

    def __init__(
        self,
        venue: TransferVenue,
        journal: TransferJournal,
        *,
        now: Callable[[], datetime],
        settings: TransferSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.venue = venue
        self.journal = journal
        self.now = now
        self.settings = settings or TransferSettings()
        self.sleep = sleep

    def execute(self, request: TransferRequest, plan_id: str = "") -> TransferRecord:
        """Journal, send once and record one transfer; an id already journaled is resolved, never resent."""
        known = self.journal.get(request.transfer_id)
        if known is not None:
            return known if known.is_final else self.resolve(known)
        record = self.journal.add(
            transfer_id=request.transfer_id,
            plan_id=plan_id,
            exchange=self.venue.name,
            asset=request.asset,
            amount=request.amount,
            from_wallet=request.from_wallet,
            to_wallet=request.to_wallet,
            created_at=self.now(),
        )
        crash_point("transfer_after_intent")
        try:
            state = self.venue.transfer(request)
        except AmbiguousTransferError as error:
            record = self.journal.update(request.transfer_id, self.now(), status="unknown", last_error=str(error))
            return self.resolve(record)
        except TransferRejectedError as error:
            return self.journal.update(request.transfer_id, self.now(), status="rejected", last_error=str(error))
        crash_point("transfer_after_accept")
        return self.journal.update(
            request.transfer_id, self.now(), status="done", exchange_transfer_id=state.exchange_id
        )

    def resume(self) -> list[TransferRecord]:
        """Resolve every transfer a previous run left unresolved (at start-up, before anything is planned)."""
        return [self.resolve(record) for record in self.journal.all(unresolved_only=True)]

    def resolve(self, record: TransferRecord) -> TransferRecord:
        """Find a transfer of unknown outcome in the exchange's history; ``lost`` once absent long enough."""
        settings = self.settings
        for attempt in range(settings.resolve_attempts):
            try:
                match = self._find(record)
            except RetryableError as error:
                match, record = None, self.journal.update(record.transfer_id, self.now(), last_error=str(error))
            if match is not None:
                return self.journal.update(
                    record.transfer_id, self.now(), status="done", exchange_transfer_id=match.exchange_id
                )
            record = self.journal.update(record.transfer_id, self.now(), misses=record.misses + 1)
            if self.now() - record.created_at >= timedelta(seconds=settings.lost_after_s):
                return self.journal.update(record.transfer_id, self.now(), status="lost")
            self.sleep(settings.resolve_backoff_s * 2**attempt)
        return self.journal.update(record.transfer_id, self.now(), status="unknown")

    def _find(self, record: TransferRecord) -> TransferState | None:
        since = record.created_at - timedelta(seconds=self.settings.clock_slack_s)
        seen = self.venue.fetch_transfers(record.asset, record.from_wallet, record.to_wallet, since)
        return match_transfer(record, seen, self.journal.claimed_exchange_ids())


def match_transfer(record: TransferRecord, seen: Sequence[TransferState], claimed: set[str]) -> TransferState | None:
    """The earliest successful transfer in ``seen`` with the record's asset, wallets and amount that no other
    journaled transfer has claimed (None when there is none)."""
    tolerance = 1e-9 * max(abs(record.amount), 1.0)
    candidates = [
        t
        for t in seen
        if t.exchange_id is not None
        and t.exchange_id not in claimed
        and t.status == "ok"
        and t.asset == record.asset
        and t.from_wallet == record.from_wallet
        and t.to_wallet == record.to_wallet
        and abs(t.amount - record.amount) <= tolerance
    ]
    epoch = datetime.min.replace(tzinfo=record.created_at.tzinfo)
    return min(candidates, key=lambda t: t.timestamp or epoch, default=None)
