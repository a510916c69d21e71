"""Cash flows in paper and live runs: recording a deposit or withdrawal, and handing it to the session.

``trimtab flow`` and the dashboard's ``POST /api/flows`` record a flow in the journal
(:func:`record_cash_flow`); they move no money. At the start of its next cycle the run takes every flow
recorded since the last one it took (:func:`take_flows`): a paper run credits (debits) its paper account's
base-currency balance, once per flow; a live run leaves the exchange alone (the user moved the money: trimtab
never deposits or withdraws); both add the flow to the session, which steers it in that cycle
(:mod:`trimtab.planner.flows`). The session's bookmark (``flows_seen``) and the paper account's
(``flows_applied``) make a restarted run take each flow exactly once.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Protocol, runtime_checkable

from trimtab.app.session_store import load_session_state, save_session_state
from trimtab.errors import BadInputError
from trimtab.limits import MAX_AMOUNT
from trimtab.storage.database import Store
from trimtab.storage.flows import CashFlow, flows_after, record_flow
from trimtab.storage.state import StateStore
from trimtab.venues.book import AccountBook
from trimtab.venues.ports import Venue

MAX_NOTE = 500
MAX_REFERENCE = 64


@runtime_checkable
class CashFlowAccount(Protocol):
    """A simulated account that a recorded flow credits (the paper venue)."""

    base_currency: str

    def fetch_balances(self) -> dict[str, float]: ...

    def apply_cash_flow(self, flow_id: int, amount: float) -> bool: ...


def check_flow(source: str, amount: float, reference: str | None, note: str) -> None:
    """Refuse a flow that cannot be recorded, naming ``source`` (a flag or the API's field).

    Raises
    ------
    BadInputError
        A zero, non-finite or oversized amount, an over-long note or reference.
    """
    if not math.isfinite(amount) or amount == 0.0:
        raise BadInputError(source, "amount", "must be a non-zero number (> 0 a deposit, < 0 a withdrawal)")
    if abs(amount) > MAX_AMOUNT:
        raise BadInputError(source, "amount", f"must be at most {MAX_AMOUNT:g} in size")
    if reference is not None and not 0 < len(reference) <= MAX_REFERENCE:
        raise BadInputError(source, "reference", f"must be 1 to {MAX_REFERENCE} characters")
    if len(note) > MAX_NOTE:
        raise BadInputError(source, "note", f"must be at most {MAX_NOTE} characters")


def record_cash_flow(
    store: Store,
    *,
    amount: float,
    base_currency: str,
    now: datetime,
    source: str,
    note: str = "",
    reference: str | None = None,
) -> tuple[CashFlow, bool]:
    """Journal a deposit (``amount`` > 0) or withdrawal; returns it and whether it is new.

    The same ``reference`` recorded twice (a retried request) is one flow; without one a fresh id is used.
    """
    check_flow(source, amount, reference, note)
    return record_flow(
        store,
        reference=reference or uuid.uuid4().hex,
        amount=amount,
        asset=base_currency,
        source=source.lstrip("-")[:16],
        note=note,
        now=now,
    )


def flow_account(venue: Venue) -> CashFlowAccount | None:
    """The paper account a flow is credited to: the venue itself, or the first paper account of a book that
    holds the base currency (else its first paper account); None for a live venue."""
    if isinstance(venue, CashFlowAccount):
        return venue
    if not isinstance(venue, AccountBook):
        return None
    paper = [a.venue for a in venue.accounts if isinstance(a.venue, CashFlowAccount)]
    holding = [p for p in paper if p.fetch_balances().get(p.base_currency, 0.0) > 0.0]
    return (holding or paper)[0] if paper else None


def describe(flow: CashFlow, credited: bool) -> str:
    """The journal's line for a flow a run took."""
    kind = "deposit" if flow.amount > 0 else "withdrawal"
    where = "credited to the paper account" if flow.amount > 0 else "debited from the paper account"
    moved = where if credited else "recorded (the money was moved on the exchange)"
    return (
        f"{kind} of {abs(flow.amount):.2f} {flow.asset} (flow {flow.id}, {flow.reference}) {moved}: "
        "it steers this cycle's rebalance"
    )


def take_flows(store: Store, state: StateStore, venue: Venue) -> list[tuple[CashFlow, bool]]:
    """Hand every flow journaled since the session's bookmark to the session state (and a paper account).

    Returns each flow taken and whether a paper account was credited with it.
    """
    session = load_session_state(state)
    taken: list[tuple[CashFlow, bool]] = []
    account = flow_account(venue)
    for flow in flows_after(store, session.flows_seen):
        credited = account.apply_cash_flow(flow.id, flow.amount) if account is not None else False
        before, session = session, session.with_flow(flow.amount, flow.id)
        save_session_state(state, session, before)
        taken.append((flow, credited))
    return taken
