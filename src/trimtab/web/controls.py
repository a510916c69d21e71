"""The dashboard's actions, written as the flags the run loop reads before each cycle and each order.

The run loop (``trimtab run``) has one brake: the journal's halt flag (:meth:`StateStore.set_halted`, the
flag ``trimtab kill`` sets), checked with the ``KILL`` file by :func:`trimtab.app.killswitch.halt_status`.
While it is on, the loop still reconciles, values the portfolio and journals it, but sends no order and
reports ``halted``. The dashboard uses that same flag:

* **pause** sets it with a pause marker (the ``paused`` state key); **resume** clears it again, but only a
  halt that a pause set: a kill switch stays on.
* **kill switch** sets it as a kill; only **release** (or ``trimtab resume``) clears it. A ``KILL`` file
  next to the journal halts too and can only be removed by hand.
* **approve / reject**: a plan that ``trimtab run --approve`` left ``pending`` becomes ``approved`` (the
  next cycle executes it if it still asks for the same trades) or ``rejected``.
* **cash flow** (``trimtab deposit`` / ``withdraw``, ``POST /api/flows``): a deposit or withdrawal is
  journaled (:mod:`trimtab.app.flows`); the next cycle credits a paper account and steers the flow.

Every action is journaled as a decision, so the record says what changed, when, and from where.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trimtab.app.killswitch import halt_status, kill_file
from trimtab.storage.database import Store
from trimtab.storage.journal import Journal
from trimtab.storage.state import StateStore

PAUSED = "paused"
"""State key: ``{"paused": bool, "reason": str, "at": ISO time}``; true while the halt flag is a pause."""


class ActionError(Exception):
    """An action that does not apply now (no such plan, a plan that is not pending); ``status`` is HTTP's."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class TradingState:
    """What the loop's brake says: trade, stay paused (halted by a pause), or stay halted (kill switch).

    Whether a loop is there at all is the heartbeat's business (:func:`trimtab.storage.heartbeat.liveness`).
    """

    paused: bool
    halted: bool
    reason: str
    kill_file: bool = False

    @property
    def mode(self) -> str:
        if self.paused:
            return "paused"
        return "halted" if self.halted else "trading"

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "paused": self.paused,
            "halted": self.halted,
            "reason": self.reason,
            "kill_file": self.kill_file,
        }


def pause_marker(state: StateStore) -> str | None:
    """The halt reason the dashboard's last pause wrote, or None when its last brake was not a pause."""
    value = state.get(PAUSED) or {}
    if not isinstance(value, dict) or not value.get("paused", False):
        return None
    return str(value.get("reason", ""))


def trading_state(store: Store) -> TradingState:
    """The loop's brake on ``store``: the halt flag, the KILL file, and whether a pause set the flag.

    A halt counts as a pause only while its reason is still the one the pause wrote: a ``trimtab kill``
    after a pause replaces the reason and so turns it into a kill that Resume cannot lift.
    """
    state = StateStore(store)
    halted, reason = halt_status(store, state)
    file = kill_file(store).exists()
    paused = halted and not file and pause_marker(state) == reason
    return TradingState(paused=paused, halted=halted, reason=reason if halted else "", kill_file=file)


SOURCES = {"dashboard": "the dashboard", "cli": "the command line", "telegram": "Telegram"}
"""Where an action came from (``payload.source`` of its decision) and how its default reason names it."""


class Controls:
    """Carries out the loop's controls on one journal, for the dashboard and the command line alike.

    ``source`` is ``dashboard`` or ``cli`` (kept in each decision); ``clock`` gives the time of each action.
    """

    def __init__(self, store: Store, clock: Any = None, source: str = "dashboard") -> None:
        self.store = store
        self.source = source
        self.where = SOURCES[source]
        self.state = StateStore(store)
        self.journal = Journal(store)
        self._clock = clock or (lambda: datetime.now(UTC))

    def _record(self, kind: str, reason: str, payload: dict[str, Any] | None = None) -> None:
        self.journal.add_decision(
            timestamp=self._clock(),
            cycle=self.journal.last_cycle(),
            kind=kind,
            reason=reason,
            payload={"source": self.source, **(payload or {})},
        )

    def _mark(self, paused: bool, reason: str) -> None:
        self.state.set(PAUSED, {"paused": paused, "reason": reason, "at": self._clock().isoformat()})

    def pause(self, reason: str = "") -> TradingState:
        """Pause the loop: it goes on valuing and journaling, but sends no order until resumed.

        A loop already halted by the kill switch stays so (the pause does not soften it).
        """
        now = trading_state(self.store)
        if now.halted and not now.paused:
            return now
        why = reason or f"paused from {self.where}"
        self._mark(True, why)
        self.state.set_halted(True, why)
        self._record("pause", why)
        return trading_state(self.store)

    def resume(self, reason: str = "") -> TradingState:
        """Resume a paused loop.

        Raises
        ------
        ActionError
            409 when the loop is halted by the kill switch or a KILL file (release it instead).
        """
        now = trading_state(self.store)
        if now.halted and not now.paused:
            raise ActionError(409, f"the kill switch is on ({now.reason}); release it to trade again")
        why = reason or f"resumed from {self.where}"
        self._mark(False, why)
        if now.paused:
            self.state.set_halted(False, "")
        self._record("resume", why)
        return trading_state(self.store)

    def kill(self, reason: str = "") -> TradingState:
        """Throw the kill switch: every new order is refused until released."""
        why = reason or f"kill switch thrown from {self.where}"
        self._mark(False, why)
        self.state.set_halted(True, why)
        self._record("halt", why)
        return trading_state(self.store)

    def release(self, reason: str = "") -> TradingState:
        """Clear the kill switch (and a pause); a KILL file still halts until removed by hand."""
        why = reason or f"kill switch released from {self.where}"
        self._mark(False, why)
        self.state.set_halted(False, "")
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
            "approve" if approve else "reject", f"plan {plan_id} {status} from {self.where}", {"plan": plan_id}
        )
        return {"id": plan_id, "status": status}

    def record_flow(self, amount: float, note: str = "", reference: str | None = None) -> dict[str, Any]:
        """Journal a deposit (``amount`` > 0) or withdrawal in the journal's base currency.

        Returns the flow (``id``, ``reference``, ``recorded_at``, ``asset``, ``amount``, ``kind``, ``source``,
        ``note``) and ``new``: False when ``reference`` was recorded before (nothing is added then).

        Raises
        ------
        ActionError
            409 when no run has valued the journal's portfolio yet (its base currency is unknown).
        BadInputError
            A zero or non-finite amount, an over-long note or reference.
        """
        from trimtab.app.flows import record_cash_flow

        base = journal_base_currency(self.store)
        if base is None:
            raise ActionError(409, "no run has valued this journal yet: start 'trimtab run' first")
        flow, new = record_cash_flow(
            self.store,
            amount=amount,
            base_currency=base,
            now=self._clock(),
            source=self.source,
            note=note,
            reference=reference,
        )
        if new:
            kind = "deposit" if amount > 0 else "withdrawal"
            why = f"{kind} of {abs(amount):.2f} {base} recorded from {self.where}" + (f": {note}" if note else "")
            self._record("cash_flow", why, {"flow": flow.id, "amount": amount, "reference": flow.reference})
        return {**flow.to_dict(), "new": new}


def journal_base_currency(store: Store) -> str | None:
    """The base currency of the journal's portfolio: its last valuation's, else its paper account's."""
    snapshot = Journal(store).last_snapshot()
    if snapshot is not None and snapshot["payload"].get("base_currency"):
        return str(snapshot["payload"]["base_currency"])
    document = StateStore(store).get("paper_account")
    if isinstance(document, dict) and document.get("base_currency"):
        return str(document["base_currency"])
    return None
