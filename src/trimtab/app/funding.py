"""A plan's transfers between accounts, carried out before its orders, journaled like orders.

Each of the plan's transfers (``asset``, ``amount``, ``from`` account, ``to`` account) becomes a
:class:`~trimtab.venues.ports.TransferRequest` with the exchange's wallet names and the id
``tt-<plan id>-x<n>``, sent through :class:`~trimtab.execution.transfers.TransferExecutor` (intent first,
an unknown outcome looked up in the exchange's history, never resent). The plan's orders go only once every
transfer is done: an opening is never sent without the collateral it was planned with. At start-up the
transfers a killed run left unresolved are settled first (:meth:`PlanFunding.resume`), and a plan's transfers
wait while any earlier one is unresolved (a new plan never moves the same collateral a second time).

Crash point ``between_transfer_and_order``: the transfers are done, the orders not sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from trimtab.domain.plan import Transfer
from trimtab.errors import TrimtabError
from trimtab.execution.crash import crash_point
from trimtab.execution.transfers import TransferExecutor, TransferSettings
from trimtab.storage import Store
from trimtab.storage.transfers import TransferJournal, TransferRecord
from trimtab.venues.book import AccountBook


class PlanFunding:
    """Sends a plan's transfers through an account book's exchanges."""

    def __init__(
        self,
        book: AccountBook,
        store: Store,
        *,
        now: Callable[[], datetime],
        sleep: Callable[[float], None] = time.sleep,
        settings: TransferSettings | None = None,
    ) -> None:
        self.book = book
        self.journal = TransferJournal(store)
        self.now = now
        self.sleep = sleep
        self.settings = settings

    def _executor(self, exchange: str) -> TransferExecutor:
        venue = self.book.transfer_venue(exchange)
        return TransferExecutor(venue, self.journal, now=self.now, settings=self.settings, sleep=self.sleep)

    def resume(self) -> list[TransferRecord]:
        """Resolve the transfers an earlier run left unknown (looked up, never resent)."""
        exchanges = {a.exchange for a in self.book.accounts}
        settled: list[TransferRecord] = []
        for exchange in sorted(exchanges):
            try:
                executor = self._executor(exchange)
            except TrimtabError:
                continue  # an exchange without a transfer endpoint has no transfers to settle
            settled += [
                executor.resolve(r) for r in self.journal.all(unresolved_only=True) if r.exchange == executor.venue.name
            ]
        return settled

    def fund(self, plan_id: str, transfers: Sequence[Transfer]) -> list[str]:
        """Carry out the plan's transfers in order; the reasons the plan's orders must wait (empty when all done).

        No transfer is sent while an earlier one is unresolved (its outcome unknown, pending at the exchange, or
        not told apart from another): that one is looked up again first, and the plan waits if it stays so.
        """
        problems = [
            f"transfer {r.transfer_id} of {r.amount:g} {r.asset} is still {r.status}"
            f" ({r.last_error or 'not confirmed'}): no other transfer is sent until it is settled"
            for r in self.resume()
            if not r.is_final
        ]
        if problems:
            return problems
        for index, transfer in enumerate(transfers):
            try:
                request = self.book.transfer_request(
                    f"tt-{plan_id}-x{index}",
                    transfer.asset,
                    transfer.amount,
                    transfer.from_account,
                    transfer.to_account,
                )
                record = self._executor(self.book.wallet_of(transfer.from_account).exchange).execute(request, plan_id)
            except TrimtabError as error:
                problems.append(
                    f"transfer {index} ({transfer.asset} {transfer.from_account} -> {transfer.to_account}): {error}"
                )
                break
            if record.status != "done":
                problems.append(
                    f"transfer {record.transfer_id} of {record.amount:g} {record.asset} from {transfer.from_account} "
                    f"to {transfer.to_account} is {record.status}: {record.last_error or 'not confirmed'}"
                )
                break
        if transfers and not problems:
            crash_point("between_transfer_and_order")
        return problems
