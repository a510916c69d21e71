"""``--approve``: a person confirms each plan before it trades.

On a terminal the loop asks on stdin. Without one (or on an empty answer at end of input) the plan is saved
as ``pending``; ``trimtab serve`` (or anything that sets the plan row to ``approved``) approves it, and the
next cycle executes its *recomputed* plan if it still asks for the same trades (same symbols and sides,
amounts within ``AMOUNT_TOLERANCE``); otherwise the old approval lapses and the new plan waits in turn.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from trimtab.domain.plan import Trade

AMOUNT_TOLERANCE = 0.10


def same_trades(approved: Sequence[dict[str, Any]], trades: Sequence[Trade]) -> bool:
    """Whether ``trades`` ask for what the approved plan asked for (within the tolerance)."""
    wanted = {(t["symbol"], t["side"]): float(t["amount"]) for t in approved}
    now = {(t.symbol, t.side.value): t.amount for t in trades}
    if set(wanted) != set(now):
        return False
    return all(abs(now[k] - v) <= AMOUNT_TOLERANCE * max(abs(v), 1e-12) for k, v in wanted.items())


def stdin_approver(stream: TextIO | None = None, out: TextIO | None = None) -> Callable[[str, Sequence[Trade]], str]:
    """An approver that asks ``Execute these N orders? [y/N]``; end of input leaves the plan pending."""

    def decide(plan_id: str, trades: Sequence[Trade]) -> str:
        source = stream or sys.stdin
        sink = out or sys.stderr
        print(f"plan {plan_id}:", file=sink)
        for t in trades:
            print(f"  {t.side.value} {t.amount:g} {t.symbol} (~{t.notional:,.2f})", file=sink)
        print(f"Execute these {len(trades)} orders? [y/N] ", end="", file=sink, flush=True)
        line = source.readline()
        if not line:
            return "pending"
        return "approved" if line.strip().lower() in ("y", "yes") else "rejected"

    return decide
