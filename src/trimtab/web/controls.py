"""The dashboard's actions, written as the flags the run loop reads before each cycle.

* pause / resume: the ``paused`` state key; a paused loop still values the portfolio and journals it, but
  plans and sends nothing.
* kill switch / release: the ``halted`` state key (:meth:`StateStore.set_halted`), the same flag the
  pre-trade gate refuses every order on; only an explicit release clears it.
* approve / reject: a plan the loop left ``pending`` (``trimtab run --approve``) becomes ``approved`` or
  ``rejected`` in the journal.

Every action is journaled as a decision, so the record says who changed what and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trimtab.storage.database import Store
from trimtab.storage.journal import Journal
from trimtab.storage.state import StateStore

PAUSED = "paused"
"""State key: ``{"paused": bool, "reason": str, "at": ISO time}``."""


class ActionError(Exception):
    """An action that does not apply now (no such plan, a plan that is not pending); ``status`` is HTTP's."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class TradingState:
    """What the loop will do next: run, stay paused, or refuse every order (halted)."""

    paused: bool
    pause_reason: str
    halted: bool
    halt_reason: str

    @property
    def mode(self) -> str:
        if self.halted:
            return "halted"
        return "paused" if self.paused else "running"

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "paused": self.paused,
            "pause_reason": self.pause_reason,
            "halted": self.halted,
            "halt_reason": self.halt_reason,
        }


def paused(state: StateStore) -> tuple[bool, str]:
    """Whether the loop is paused, and why (the run loop reads this before planning)."""
    value = state.get(PAUSED) or {}
    if not isinstance(value, dict):
        return False, ""
    return bool(value.get("paused", False)), str(value.get("reason", ""))


def trading_state(store: Store) -> TradingState:
    """The pause and halt flags of ``store``."""
    state = StateStore(store)
    is_paused, pause_reason = paused(state)
    is_halted, halt_reason = state.halted()
    return TradingState(is_paused, pause_reason, is_halted, halt_reason)


class Controls:
    """Carries out the dashboard's actions on one journal; ``clock`` gives the time of each."""

    def __init__(self, store: Store, clock: Any = None) -> None:
        self.store = store
        self.state = StateStore(store)
        self.journal = Journal(store)
        self._clock = clock or (lambda: datetime.now(UTC))

    def _record(self, kind: str, reason: str, payload: dict[str, Any] | None = None) -> None:
        self.journal.add_decision(
            timestamp=self._clock(),
            cycle=self.journal.last_cycle(),
            kind=kind,
            reason=reason,
            payload={"source": "dashboard", **(payload or {})},
        )

    def pause(self, reason: str = "") -> TradingState:
        """Pause the loop: no new plans or orders until resumed."""
        why = reason or "paused from the dashboard"
        self.state.set(PAUSED, {"paused": True, "reason": why, "at": self._clock().isoformat()})
        self._record("pause", why)
        return trading_state(self.store)

    def resume(self, reason: str = "") -> TradingState:
        """Resume a paused loop (a kill switch stays on: that needs :meth:`release`)."""
        why = reason or "resumed from the dashboard"
        self.state.set(PAUSED, {"paused": False, "reason": why, "at": self._clock().isoformat()})
        self._record("resume", why)
        return trading_state(self.store)

    def kill(self, reason: str = "") -> TradingState:
        """Throw the kill switch: every new order is refused until released."""
        why = reason or "kill switch thrown from the dashboard"
        self.state.set_halted(True, why)
        self._record("halt", why)
        return trading_state(self.store)

    def release(self, reason: str = "") -> TradingState:
        """Clear the kill switch."""
        why = reason or "kill switch released from the dashboard"
        self.state.set_halted(False, why)
        self._record("release", why)
        return trading_state(self.store)

    def decide(self, plan_id: str, approve: bool) -> dict[str, Any]:
        """Approve or reject a pending plan.

        Raises
        ------
        ActionError
            404 when there is no such plan, 409 when it is not pending.
        """
        plan = self.journal.plan(plan_id)
        if plan is None:
            raise ActionError(404, f"no plan {plan_id!r}")
        if plan["status"] != "pending":
            raise ActionError(409, f"plan {plan_id} is {plan['status']}, not pending")
        status = "approved" if approve else "rejected"
        self.journal.set_plan_status(plan_id, status)
        self._record(
            "approve" if approve else "reject", f"plan {plan_id} {status} from the dashboard", {"plan": plan_id}
        )
        return {"id": plan_id, "status": status}
