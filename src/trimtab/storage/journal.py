"""The journal repository: plans, intents, orders, fills, valuation snapshots and decisions.

One :class:`Journal` over one store, made of :class:`~trimtab.storage.order_journal.OrderJournal` (intents,
orders and fills: what was sent and what it did) and :class:`~trimtab.storage.decision_journal.DecisionJournal`
(plans, snapshots and decisions: what each cycle saw and why).
"""

from __future__ import annotations

from trimtab.storage.database import Store
from trimtab.storage.decision_journal import DecisionJournal, plan_dict
from trimtab.storage.fills import NewFill
from trimtab.storage.order_journal import OrderJournal
from trimtab.storage.records import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    FillRecord,
    IntentRecord,
    OrderRecord,
    OverfillError,
)

__all__ = [
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "FillRecord",
    "IntentRecord",
    "Journal",
    "NewFill",
    "OrderRecord",
    "OverfillError",
    "plan_dict",
]


class Journal(OrderJournal, DecisionJournal):
    """Reads and writes the journal of one store; every method is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
