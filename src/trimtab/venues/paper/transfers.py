"""The transfer desk of a simulated exchange: assets move between its paper accounts' wallets.

Each paper account of one exchange (a :class:`~trimtab.venues.paper.PaperVenue` per wallet: ``spot``,
``linear``, ``inverse``, ``unified``) joins the exchange's desk. A transfer is refused as an exchange refuses
it (an unknown or identical wallet, a non-positive amount, more than may leave the source:
:func:`trimtab.venues.simulation.transfers.withdrawable`), else both accounts and the desk's ledger are
saved in one transaction, so a crash leaves the transfer done or not done, never half. The ledger keeps
trimtab's transfer id with each transfer: :meth:`PaperTransferDesk.lookup` finds one by it (as Bybit's
``transferId`` does), :meth:`PaperTransferDesk.history` lists them as an exchange's transfer history does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from trimtab.errors import TransferRejectedError
from trimtab.venues.paper.persistence import iso, parse_time
from trimtab.venues.ports import TransferRequest, TransferState
from trimtab.venues.simulation.transfers import move

if TYPE_CHECKING:
    from trimtab.venues.paper.venue import PaperVenue

PAPER_TRANSFERS_KEY = "paper_transfers"


class PaperTransferDesk:
    """Moves assets between the wallets of one simulated exchange and keeps their history."""

    def __init__(self, store: Any, clock: Callable[[], datetime], key: str = PAPER_TRANSFERS_KEY) -> None:
        self.store = store
        self.clock = clock
        self.key = key
        self.wallets: dict[str, PaperVenue] = {}

    def join(self, wallet: str, venue: PaperVenue) -> None:
        """Make ``venue`` the account behind ``wallet`` (and let it send transfers through this desk)."""
        self.wallets[wallet] = venue
        venue.desk = self

    def transfer(self, request: TransferRequest) -> TransferState:
        """Move the asset now, or raise TransferRejectedError naming why (nothing moves then)."""
        source = self.wallets.get(request.from_wallet)
        target = self.wallets.get(request.to_wallet)
        if source is None or target is None or source is target:
            raise TransferRejectedError(
                f"no transfer from {request.from_wallet!r} to {request.to_wallet!r}: wallets are {sorted(self.wallets)}"
            )
        ledger = list(self.store.get(self.key) or [])
        if any(entry["transfer_id"] == request.transfer_id for entry in ledger):
            raise TransferRejectedError(f"transfer {request.transfer_id} was already made")
        source.sync()
        target.sync()
        try:
            move(source.account, target.account, request.asset, request.amount, source.feed.snapshot())
        except ValueError as refusal:
            raise TransferRejectedError(f"{request.from_wallet} -> {request.to_wallet}: {refusal}") from None
        now = self.clock()
        entry = {
            "transfer_id": request.transfer_id,
            "exchange_id": f"PT{len(ledger) + 1}",
            "asset": request.asset,
            "amount": request.amount,
            "from_wallet": request.from_wallet,
            "to_wallet": request.to_wallet,
            "timestamp": iso(now),
        }
        documents = {source.key: source.document(), target.key: target.document(), self.key: [*ledger, entry]}
        save_together(self.store, documents)
        return _state(entry)

    def lookup(self, transfer_id: str) -> TransferState | None:
        """The transfer made under trimtab's ``transfer_id``, or None when none was."""
        for entry in self.store.get(self.key) or []:
            if entry["transfer_id"] == transfer_id:
                return _state(entry)
        return None

    def history(
        self, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> list[TransferState]:
        """The transfers made, oldest first, of ``asset`` between the two wallets (since a moment)."""
        out = []
        for entry in self.store.get(self.key) or []:
            moment = parse_time(entry["timestamp"])
            if (entry["asset"], entry["from_wallet"], entry["to_wallet"]) != (asset, from_wallet, to_wallet):
                continue
            if since is not None and moment is not None and moment < since:
                continue
            out.append(_state(entry))
        return out


def save_together(store: Any, documents: dict[str, Any]) -> None:
    """Store several keys in one transaction when the store can (a StateStore), else one after another."""
    set_many = getattr(store, "set_many", None)
    if callable(set_many):
        set_many(documents)
        return
    for key, value in documents.items():
        store.set(key, value)


def _state(entry: dict[str, Any]) -> TransferState:
    return TransferState(
        entry["exchange_id"],
        entry["asset"],
        float(entry["amount"]),
        entry["from_wallet"],
        entry["to_wallet"],
        "ok",
        parse_time(entry["timestamp"]),
    )
