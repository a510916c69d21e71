"""The rebalancing session's state in the journal's ``state`` table, so a restarted run goes on where it was.

The whole :class:`~trimtab.session.SessionState` is one JSON document under :data:`SESSION`; the last
rebalance is also kept under its own key, which ``trimtab status`` reads. A journal written before the
session existed holds the separate keys only: they are read once and carried over.
"""

from __future__ import annotations

from trimtab.session import SessionState
from trimtab.storage.state import INITIAL_EQUITY, LAST_CHECK, LAST_REBALANCE, PEAK_EQUITY, StateStore

SESSION = "session"


def load_session_state(state: StateStore) -> SessionState:
    """The stored session state (an empty one for a new journal)."""
    document = state.get(SESSION)
    if isinstance(document, dict):
        return SessionState.from_json(document)
    peak, initial = state.get(PEAK_EQUITY), state.get(INITIAL_EQUITY)
    return SessionState(
        last_rebalance=state.get_time(LAST_REBALANCE),
        last_check=state.get_time(LAST_CHECK),
        peak_equity=None if peak is None else float(peak),
        initial_equity=None if initial is None else float(initial),
    )


def save_session_state(state: StateStore, session: SessionState, before: SessionState | None = None) -> None:
    """Store ``session`` (nothing is written when it equals ``before``)."""
    if session == before:
        return
    state.set(SESSION, session.to_json())
    if session.last_rebalance is not None and (before is None or before.last_rebalance != session.last_rebalance):
        state.set_time(LAST_REBALANCE, session.last_rebalance)
    if session.peak_equity is not None:
        state.set(PEAK_EQUITY, session.peak_equity)
