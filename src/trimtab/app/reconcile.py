"""Reconciliation: make the journal agree with the venue before anything is traded.

At start-up and at the top of every cycle:

1. every order the journal still follows (pending, ambiguous, open) is looked up and its fills applied;
2. an order of ours still resting at the venue is cancelled: it belongs to an earlier plan, and plans are
   always recomputed from actual holdings, never resumed;
3. an order at the venue that carries trimtab's prefix but has no journal row (a journal restored from an
   old backup) is journaled, then cancelled; orders without the prefix are left alone;
4. an order the journal calls final whose fills do not add up (``filled`` short of its amount, or of what
   the venue reported filled: fills lost by an older version, or a trade list that failed) is read again,
   answer and trades journaled together, and counts as unresolved until they add up;
5. the cycle trades only when no order is left unresolved ("converged").
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

from trimtab.errors import RetryableError
from trimtab.execution.ids import is_ours
from trimtab.execution.tracker import OrderTracker
from trimtab.storage.journal import FINAL_STATUSES, Journal

ADOPTED_PLAN = "adopted"


@dataclass
class Reconciliation:
    """What reconciliation did, and whether the journal and the venue now agree."""

    resolved: list[str] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return not self.unresolved


def reconcile(tracker: OrderTracker, journal: Journal, clock: Callable[[], datetime], cycle: int) -> Reconciliation:
    """Resolve, settle and clean up trimtab's orders; see the module docstring."""
    result = Reconciliation()
    venue = tracker.venue
    try:
        venue_open = venue.fetch_open_orders()
    except RetryableError:
        venue_open = []
    journaled = {cid: journal.order(cid) for cid in {s.client_order_id for s in venue_open}}
    known = {cid for cid, order in journaled.items() if order is not None}
    lost = {cid for cid, order in journaled.items() if order is not None and order.status == "lost"}
    for state in venue_open:
        if state.client_order_id in lost:
            # "Not found" was wrong after all: the order is live. Follow it again (it is cancelled below).
            journal.update_order(state.client_order_id, clock(), status=state.status.value, last_error="")
            tracker.record(state)
            journal.add_decision(
                timestamp=clock(),
                cycle=cycle,
                kind="reconcile",
                reason=f"order {state.client_order_id}, declared lost, is at the venue: followed and cancelled",
            )
            continue
        if not is_ours(state.client_order_id) or state.client_order_id in known:
            continue
        journal.add_order(
            client_order_id=state.client_order_id,
            plan_id=ADOPTED_PLAN,
            intent_id=None,
            venue=venue.name,
            symbol=state.symbol,
            side=state.side.value,
            order_type=state.type.value,
            amount=state.amount,
            price=state.price,
            reduce_only=False,
            created_at=state.timestamp or clock(),
        )
        tracker.record(state)
        result.adopted.append(state.client_order_id)
        journal.add_decision(
            timestamp=clock(),
            cycle=cycle,
            kind="reconcile",
            reason=f"order {state.client_order_id} was at the venue but not in the journal: journaled and cancelled",
        )
    for order in journal.orders(open_only=True):
        try:
            current = tracker.resolve_now(order.client_order_id)
            if current.status not in FINAL_STATUSES and current.status not in ("pending", "ambiguous"):
                current = tracker.cancel(order.client_order_id)
                if current.status == "canceled":
                    result.canceled.append(order.client_order_id)
        except RetryableError:
            current = journal.order(order.client_order_id) or order
        if current.status in FINAL_STATUSES:
            result.resolved.append(order.client_order_id)
        else:
            result.unresolved.append(order.client_order_id)
    _settle(tracker, journal, result)
    if result.unresolved:
        journal.add_decision(
            timestamp=clock(),
            cycle=cycle,
            kind="reconcile",
            reason=f"{len(result.unresolved)} order(s) not settled yet; no trading until they are",
            payload={"orders": result.unresolved},
        )
    return result


def _settle(tracker: OrderTracker, journal: Journal, result: Reconciliation) -> None:
    """Read again every final order whose journaled fills fall short; those still short stay unresolved."""
    short = journal.unsettled_orders()
    for order in short:
        with suppress(RetryableError):  # still short: unresolved below, read again next cycle
            tracker.settle(order.client_order_id)
    still = {order.client_order_id for order in journal.unsettled_orders()}
    for order in short:
        current = journal.order(order.client_order_id) or order
        if order.client_order_id in still or current.status not in FINAL_STATUSES:
            result.unresolved.append(order.client_order_id)
        else:
            result.resolved.append(order.client_order_id)
