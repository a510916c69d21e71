"""Risk guards of every rebalancing session (backtest, paper, live): the liquidation buffer and the funding monitor.

The session runs the full forms: the deleveraging ladder (:mod:`trimtab.session.deleverage`) and the funding
monitor on both sides with the expected holding time (:mod:`trimtab.session.funding`). This module keeps the
single step of the liquidation buffer and gathers the guards' public names.

* **Liquidation buffer** (one step). When a derivative position's distance to its liquidation price falls
  below ``liquidation_buffer`` (a fraction of the mark), the account turns *reducing only*: no order may grow
  a derivative position, and a step closes ``deleverage_fraction`` of that position with a ``reduceOnly``
  order, whether or not the bands are breached. The ladder repeats the step until the buffer is restored.
"""

from __future__ import annotations

from dataclasses import dataclass

from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.plan import Trade
from trimtab.session.deleverage import reducing_trade
from trimtab.session.funding import funding_switch
from trimtab.valuation.model import Valuation

__all__ = ["Deleverage", "funding_switch", "liquidation_guard"]


@dataclass(frozen=True)
class Deleverage:
    """The liquidation guard's verdict: whether new exposure is blocked, and the reducing trades."""

    reducing_only: bool
    trades: tuple[Trade, ...] = ()
    reasons: tuple[str, ...] = ()


def liquidation_guard(valuation: Valuation, buffer: float, fraction: float) -> Deleverage:
    """Positions closer to liquidation than ``buffer`` block new exposure and are cut by ``fraction``."""
    trades: list[Trade] = []
    reasons: list[str] = []
    for p in valuation.positions:
        if p.instrument.kind not in (InstrumentKind.PERP, InstrumentKind.FUTURE):
            continue
        if p.liquidation_distance is None or p.liquidation_distance >= buffer or p.amount == 0:
            continue
        reason = (
            f"{p.symbol} is {p.liquidation_distance:.1%} from liquidation (buffer {buffer:.1%}): "
            f"reducing it by {fraction:.0%}"
        )
        reasons.append(reason)
        trades.append(reducing_trade(p, abs(p.amount) * fraction, reason, venue="default"))
    return Deleverage(bool(trades), tuple(trades), tuple(reasons))
