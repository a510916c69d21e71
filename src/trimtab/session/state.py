"""What a rebalancing session remembers between two plans, and the one rule that moves it forward.

Every clock (the backtest's bars, a paper replay, the live loop) keeps this record through
:class:`~trimtab.session.session.RebalancingSession`; nothing else remembers any of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from trimtab.domain.lots import LotBook


@dataclass(frozen=True, slots=True)
class SessionState:
    """The state around the planner.

    ``last_rebalance``
        When the trigger last fired and the plan was carried out (with or without orders left to send).
    ``last_check``
        When the trigger last looked at the bands (a check point of a hybrid, also inside ``any``/``all``).
    ``peak_equity``
        The highest equity after a cycle's trades (CPPI's ratchet).
    ``initial_equity``
        The first equity the session saw (CPPI's fixed reference without the ratchet).
    ``hedges``
        Open derivative positions by symbol, with the time each was opened (their age).
    ``lots``
        The open tax lots (None until the session is given lots or sees a spot fill); spot buys open lots at
        their fill price and sales consume them (:meth:`RebalancingSession.close`).
    ``pending_flow``
        Deposits (> 0) less withdrawals in the base currency that reached the account and that no carried-out
        cycle has steered yet: the next plan steers them (:mod:`trimtab.planner.flows`).
    ``flows_seen``
        The journal id of the last cash flow counted into ``pending_flow`` (the live loop's bookmark).
    ``closed_hedge_days``, ``closed_hedges``
        How long the hedges closed so far were held, in days, summed, and how many there were: with the ages
        of the open ones, the measured holding time of a hedge (:meth:`measured_hold_days`).
    """

    last_rebalance: datetime | None = None
    last_check: datetime | None = None
    peak_equity: float | None = None
    initial_equity: float | None = None
    hedges: Mapping[str, datetime] = field(default_factory=dict)
    lots: LotBook | None = None
    pending_flow: float = 0.0
    flows_seen: int = 0
    closed_hedge_days: float = 0.0
    closed_hedges: int = 0

    def measured_hold_days(self, now: datetime) -> float | None:
        """The mean holding time of the hedges seen so far: closed ones' full time, open ones' age so far.

        None before any hedge; a lower bound while hedges are open (they are not over yet).
        """
        ages = [(now - opened).total_seconds() / 86400.0 for opened in self.hedges.values()]
        count = self.closed_hedges + len(ages)
        return (self.closed_hedge_days + sum(ages)) / count if count else None

    def with_flow(self, amount: float, seen: int | None = None) -> SessionState:
        """The state with a deposit (``amount`` > 0) or withdrawal (< 0) waiting to be steered.

        ``seen`` moves the journal bookmark (the id of the flow's row) so that no flow is counted twice.
        """
        return replace(
            self,
            pending_flow=self.pending_flow + amount,
            flows_seen=self.flows_seen if seen is None else max(self.flows_seen, seen),
        )

    def hedge_age_days(self, symbol: str, now: datetime) -> float | None:
        """Days since the hedge on ``symbol`` was opened (None when none is open)."""
        opened = self.hedges.get(symbol)
        return None if opened is None else (now - opened).total_seconds() / 86400.0

    def advanced(
        self,
        now: datetime,
        *,
        checked: bool,
        rebalanced: bool,
        equity_before: float,
        equity_after: float,
        held: Iterable[str],
    ) -> SessionState:
        """The state after a cycle at ``now`` (the one rule every clock follows).

        Parameters
        ----------
        checked:
            The trigger looked at the bands now: ``last_check`` moves to ``now``.
        rebalanced:
            The trigger fired and the plan was carried out (nothing blocked it: no halt, no pending approval,
            no unsettled order): ``last_rebalance`` moves to ``now``, whether or not an order was left to send.
        equity_before, equity_after:
            Equity at the plan and after the cycle's trades, at the same prices.
        held:
            The derivative symbols held after the cycle: a new one opens a hedge now, one gone closes it.
        """
        held_now = set(held)
        hedges, closed = self.hedges, []
        if held_now != hedges.keys():  # most cycles open and close no hedge: the record stays as it is
            closed = [(now - t).total_seconds() / 86400.0 for s, t in hedges.items() if s not in held_now]
            hedges = {s: t for s, t in hedges.items() if s in held_now}
            hedges.update({s: now for s in sorted(held_now) if s not in hedges})
        peak = equity_after if self.peak_equity is None else max(self.peak_equity, equity_after)
        return SessionState(  # every field named: a cycle's one new state, built directly (replace() costs more)
            last_rebalance=now if rebalanced else self.last_rebalance,
            last_check=now if checked else self.last_check,
            peak_equity=peak,
            initial_equity=equity_before if self.initial_equity is None else self.initial_equity,
            hedges=hedges,
            lots=self.lots,
            pending_flow=self.pending_flow,
            flows_seen=self.flows_seen,
            closed_hedge_days=self.closed_hedge_days + sum(closed),
            closed_hedges=self.closed_hedges + len(closed),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON document of the state (times in ISO 8601)."""
        return {
            "last_rebalance": _iso(self.last_rebalance),
            "last_check": _iso(self.last_check),
            "peak_equity": self.peak_equity,
            "initial_equity": self.initial_equity,
            "hedges": {symbol: _iso(opened) for symbol, opened in sorted(self.hedges.items())},
            "pending_flow": self.pending_flow,
            "flows_seen": self.flows_seen,
            "closed_hedge_days": self.closed_hedge_days,
            "closed_hedges": self.closed_hedges,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> SessionState:
        """The state :meth:`to_json` wrote (missing keys take their defaults)."""
        hedges = document.get("hedges") or {}
        return cls(
            last_rebalance=_time(document.get("last_rebalance")),
            last_check=_time(document.get("last_check")),
            peak_equity=_number(document.get("peak_equity")),
            initial_equity=_number(document.get("initial_equity")),
            hedges={str(s): t for s, t in ((s, _time(v)) for s, v in hedges.items()) if t is not None},
            pending_flow=_number(document.get("pending_flow")) or 0.0,
            flows_seen=int(document.get("flows_seen") or 0),
            closed_hedge_days=_number(document.get("closed_hedge_days")) or 0.0,
            closed_hedges=int(document.get("closed_hedges") or 0),
        )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
