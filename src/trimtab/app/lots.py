"""The run's tax lots: the journal's open lots brought up to date with every fill journaled since.

Each spot fill against the base currency moves the lots (:func:`trimtab.planner.tax.apply_fills`): a buy
opens a lot at its fill price and time, a sale consumes lots by the policy's ``[tax] method`` (first in,
first out without ``[tax]``). The lots and the last fill they include are stored together, so a fill is
applied once, whenever it was journaled (in the cycle that sent it or at a later reconciliation). A paper
account starts from its portfolio file's ``[[lots]]``; a live account from no lots, so what it held before
its first run has an unknown cost (its sales are noted in the plan and count no gain).
"""

from __future__ import annotations

from datetime import datetime

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.lots import LotBook
from trimtab.planner.tax import SpotFill, apply_fills
from trimtab.policy.config import Policy
from trimtab.storage.database import Store
from trimtab.storage.lots import LotJournal, spot_fills_after


def current_lots(store: Store, policy: Policy, now: datetime) -> LotBook:
    """The open lots after every journaled fill, stored back when fills were added since the last read."""
    journal = LotJournal(store)
    stored = journal.read()
    book, through = stored if stored is not None else (LotBook(), 0)
    fills = spot_fills_after(store, through)
    if not fills and stored is not None:
        return book
    rules = policy.tax_rules()
    last = through
    for fill_id, symbol, side, amount, price, when in fills:
        last = fill_id
        instrument = parse_symbol(symbol)
        if instrument.kind is not InstrumentKind.SPOT or instrument.quote != policy.base_currency:
            continue
        signed = amount if side == "buy" else -amount
        book, _, _ = apply_fills(book, [SpotFill(instrument.base, signed, price)], rules, when)
    journal.replace(book, last, now)
    return book


def seed_lots(store: Store, book: LotBook, now: datetime) -> None:
    """Store a new account's lots (a paper portfolio's ``[[lots]]``) before any fill."""
    LotJournal(store).replace(book, 0, now)
