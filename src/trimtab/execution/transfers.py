"""Transfers between the wallets of one exchange, journaled like orders: intent first, never sent twice.

:meth:`TransferExecutor.execute` commits the transfer's row (``pending``) before the request leaves, sends it
once, and records the exchange's id. An answer that may or may not mean "done" (timeout, 5xx, a crash after
sending) is resolved by looking the transfer up, with bounded backoff: by its own id where the exchange keeps
one (Bybit's ``transferId``, derived from the journal's id), else in the exchange's history, strictly by
contents (:mod:`trimtab.execution.transfer_matching`). A transfer still absent ``lost_after_s`` after its
intent never happened (``lost``), and the next plan, computed from the balances, decides afresh; one the
exchange calls pending stays ``unknown`` until it settles; one the lookup cannot tell apart from another stays
``unknown`` with the reason (``needs a human: ...``). A lookup that fails is no evidence either way: it is not
counted as a miss. Nothing here ever resends a journaled transfer.

Crash points (:mod:`trimtab.execution.crash`): ``transfer_after_intent`` (row committed, request not sent)
and ``transfer_after_accept`` (the exchange accepted it, its answer is not saved).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from trimtab.errors import AmbiguousTransferError, RetryableError, TransferRejectedError
from trimtab.execution.crash import crash_point
from trimtab.execution.transfer_matching import TransferMatch, match_by_contents, match_by_id
from trimtab.storage.transfers import TransferJournal, TransferRecord
from trimtab.venues.ports import TransferCapable, TransferRequest


@dataclass(frozen=True)
class TransferSettings:
    """Lookups after an ambiguous answer: how many, how far apart, and when absence means "never happened"."""

    resolve_attempts: int = 5
    resolve_backoff_s: float = 0.2
    lost_after_s: float = 2.0
    clock_slack_s: float = 5.0
    """How far the exchange's clock may run behind ours: a transfer stamped more than this before the intent
    predates it and is never taken for it."""


class TransferExecutor:
    """Send journaled transfers through a venue and resolve those whose outcome is unknown."""

    def __init__(
        self,
        venue: TransferCapable,
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
        if state.status == "failed":
            return self.journal.update(request.transfer_id, self.now(), status="rejected", last_error="failed")
        record = self.journal.update(
            request.transfer_id,
            self.now(),
            status="done" if state.status == "ok" else "unknown",
            exchange_transfer_id=state.exchange_id,
        )
        return record if record.is_final else self.resolve(record)

    def resume(self) -> list[TransferRecord]:
        """Resolve every transfer a previous run left unresolved (at start-up, before anything is planned)."""
        return [self.resolve(record) for record in self.journal.all(unresolved_only=True)]

    def resolve(self, record: TransferRecord) -> TransferRecord:
        """Find a transfer of unknown outcome at the exchange; ``lost`` once absent long enough."""
        settings = self.settings
        for attempt in range(settings.resolve_attempts):
            try:
                match = self._look_up(record)
            except RetryableError as error:  # no answer is no evidence: not a miss
                record = self.journal.update(record.transfer_id, self.now(), last_error=str(error))
            else:
                if match.conflict:
                    reason = f"needs a human: {match.conflict}"
                    return self.journal.update(record.transfer_id, self.now(), status="unknown", last_error=reason)
                settled = self._settle(record, match)
                if settled.is_final:
                    return settled
                record = settled
            self.sleep(settings.resolve_backoff_s * 2**attempt)
        return self.journal.update(record.transfer_id, self.now(), status="unknown")

    def _settle(self, record: TransferRecord, match: TransferMatch) -> TransferRecord:
        """Record what one lookup showed: done, failed, still pending, or one more miss (lost when old enough)."""
        found = match.found
        if found is not None and found.status == "ok":
            return self.journal.update(
                record.transfer_id, self.now(), status="done", exchange_transfer_id=found.exchange_id
            )
        if found is not None and found.status == "failed":
            return self.journal.update(record.transfer_id, self.now(), status="rejected", last_error="failed")
        if found is not None:  # the exchange shows it, not yet settled: neither done nor absent
            return self.journal.update(record.transfer_id, self.now(), last_error=f"{found.status} at the exchange")
        record = self.journal.update(record.transfer_id, self.now(), misses=record.misses + 1)
        if self.now() - record.created_at >= timedelta(seconds=self.settings.lost_after_s):
            return self.journal.update(record.transfer_id, self.now(), status="lost")
        return record

    def _look_up(self, record: TransferRecord) -> TransferMatch:
        since = record.created_at - timedelta(seconds=self.settings.clock_slack_s)
        claimed = self.journal.claimed_exchange_ids() - {record.exchange_transfer_id or ""}
        if self.venue.keeps_transfer_ids:
            found = self.venue.fetch_transfer(
                record.transfer_id, record.asset, record.from_wallet, record.to_wallet, since
            )
            return match_by_id(record, found, claimed)
        seen = self.venue.fetch_transfers(record.asset, record.from_wallet, record.to_wallet, since)
        return match_by_contents(record, seen, claimed, since)
