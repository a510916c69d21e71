"""What a rebalancing session remembers between two plans, and the one rule that moves it forward.

Every clock (the backtest's bars, a paper replay, the live loop) keeps this record through
:class:`~trimtab.session.session.RebalancingSession`; nothing else remembers any of it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from trimtab.domain.lots import LotBook
from trimtab.session.holding import HeldPosition, HoldRecord, entry_notional


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
    ``holds``
        Per hedge symbol, the record of its hedges' entry notional over time, open and closed
        (:class:`~trimtab.session.holding.HoldRecord`): their notional-weighted holding time
        (:meth:`measured_hold_days`). A few numbers per symbol ever hedged, however many hedges it saw.
    """

    last_rebalance: datetime | None = None
    last_check: datetime | None = None
    peak_equity: float | None = None
    initial_equity: float | None = None
    hedges: Mapping[str, datetime] = field(default_factory=dict)
    lots: LotBook | None = None
    pending_flow: float = 0.0
    flows_seen: int = 0
    holds: Mapping[str, HoldRecord] = field(default_factory=dict)

    def measured_hold_days(self, now: datetime) -> dict[str, float]:
        """Per hedge symbol, the notional-weighted holding time of its hedges up to ``now``, in days
        (:mod:`trimtab.session.holding`): closed ones for their whole life, the open one so far.

        Only the symbols that have been hedged; a lower bound while a hedge is open (it is not over yet).
        """
        if not self.holds:
            return {}
        days = {symbol: record.hold_days(now) for symbol, record in self.holds.items()}
        return {symbol: d for symbol, d in days.items() if d is not None}

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
        held: Collection[HeldPosition],
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
            The derivative positions held after the cycle: a new one opens a hedge now, one gone closes it, one
            whose amount changed moves its symbol's holding record (:mod:`trimtab.session.holding`).
        """
        hedges, holds = self.hedges, self.holds
        if not _unchanged(holds, hedges, held):  # most cycles change no hedge: the records stay as they are
            hedges, holds = _moved(hedges, holds, held, now)
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
            holds=holds,
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
            "holds": {symbol: record.to_json() for symbol, record in sorted(self.holds.items())},
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> SessionState:
        """The state :meth:`to_json` wrote (missing keys take their defaults).

        A document written before the holding records (no ``holds``; ``closed_hedge_days`` and
        ``closed_hedges``, a plain mean over every symbol) keeps its open hedges: the next cycle takes each as
        held since it was opened at the size it then sees (:meth:`advanced`). The closed hedges' plain total is
        dropped: it says neither which class held them nor how large they were.
        """
        found = document.get("hedges") or {}
        stored = document.get("holds") or {}
        return cls(
            last_rebalance=_time(document.get("last_rebalance")),
            last_check=_time(document.get("last_check")),
            peak_equity=_number(document.get("peak_equity")),
            initial_equity=_number(document.get("initial_equity")),
            hedges={str(s): t for s, t in ((s, _time(v)) for s, v in found.items()) if t is not None},
            pending_flow=_number(document.get("pending_flow")) or 0.0,
            flows_seen=int(document.get("flows_seen") or 0),
            holds={str(s): HoldRecord.from_json(r) for s, r in stored.items() if isinstance(r, Mapping)},
        )


def _unchanged(holds: Mapping[str, HoldRecord], hedges: Mapping[str, datetime], held: Collection[HeldPosition]) -> bool:
    """Whether every position held is the amount its record holds, and every open hedge is still held (a dict
    lookup and a comparison per position: no allocation)."""
    matched = 0
    for position in held:
        amount = position.amount
        if amount == 0.0:
            continue
        record = holds.get(position.instrument.symbol)
        if record is None or record.amount != amount:
            return False
        matched += 1
    return matched == len(hedges)


def _moved(
    hedges: Mapping[str, datetime],
    holds: Mapping[str, HoldRecord],
    held: Collection[HeldPosition],
    now: datetime,
) -> tuple[dict[str, datetime], dict[str, HoldRecord]]:
    """The open hedges and the records after the positions became ``held`` at ``now``.

    An open hedge without a record (a state from before the records) is taken as held since it was opened at
    the size now seen.
    """
    positions = {p.instrument.symbol: p for p in held if p.amount != 0.0}
    records = dict(holds)
    for symbol, record in holds.items():
        if symbol not in positions and record.amount != 0.0:
            records[symbol] = record.moved(0.0, 0.0, now)
    opened = dict(hedges)
    for symbol in sorted(positions):
        position, found = positions[symbol], records.get(symbol)
        if found is not None and found.amount == position.amount:
            continue
        record = found if found is not None else HoldRecord(since=opened.get(symbol))
        if record.amount * position.amount < 0.0 or symbol not in opened:  # turned to the other side: a new hedge
            opened[symbol] = now
        records[symbol] = record.moved(position.amount, entry_notional(position), now)
    return {s: t for s, t in opened.items() if s in positions}, records


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
