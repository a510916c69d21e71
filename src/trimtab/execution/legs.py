"""From a plan's trades to execution legs: flips split, reductions capped, sells and hedge reductions first.

A derivative trade that crosses zero (short 0.5 to long 0.2) becomes a ``reduceOnly`` leg that closes the
position and a leg that opens the rest. Legs go out in this order, so that cash and margin are freed before
they are used: derivative reductions, spot sells, derivative openings, spot buys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trimtab.domain.plan import Side, Trade

_EPS = 1e-12


@dataclass(frozen=True)
class Leg:
    """One thing to trade: ``amount`` is positive, in instrument units; ``reference_price`` the plan's price."""

    index: int
    class_name: str
    symbol: str
    side: Side
    amount: float
    reference_price: float
    derivative: bool
    reduce_only: bool = False
    unit_notional: float | None = None
    """Notional of one unit of ``amount`` (the plan's notional per unit: an inverse contract's face value);
    None: the reference price."""

    @property
    def priority(self) -> int:
        if self.derivative and self.reduce_only:
            return 0
        if not self.derivative and self.side is Side.SELL:
            return 1
        if self.derivative:
            return 2
        return 3

    @property
    def notional(self) -> float:
        return self.amount * (self.unit_notional if self.unit_notional is not None else self.reference_price)


def legs_from_trades(trades: Sequence[Trade], positions: Mapping[str, float]) -> list[Leg]:
    """The legs that carry out ``trades`` given the venue's current derivative ``positions`` (signed amounts).

    Returns
    -------
    list[Leg]
        Numbered in execution order (reductions and sells first).
    """
    raw: list[Leg] = []
    # Each trade moves the position the next one on the same symbol starts from (a plan may close a long and
    # then open a short with two trades): a second trade must not "close" what the first already closed.
    positions = dict(positions)
    for trade in trades:
        derivative = trade.instrument.value != "spot"
        unit = trade.notional / trade.amount if trade.amount > 0 else None
        if not derivative:
            raw.append(
                Leg(0, trade.class_name, trade.symbol, trade.side, trade.amount, trade.price, False, False, unit)
            )
            continue
        held = positions.get(trade.symbol, 0.0)
        delta = trade.signed_amount()
        positions[trade.symbol] = held + delta
        if held * delta < 0:
            closing = min(abs(delta), abs(held))
            raw.append(Leg(0, trade.class_name, trade.symbol, trade.side, closing, trade.price, True, True, unit))
            opening = abs(delta) - closing
            if opening > _EPS * max(1.0, abs(delta)):
                raw.append(Leg(0, trade.class_name, trade.symbol, trade.side, opening, trade.price, True, False, unit))
        else:
            raw.append(Leg(0, trade.class_name, trade.symbol, trade.side, trade.amount, trade.price, True, False, unit))
    ordered = sorted(raw, key=lambda leg: leg.priority)
    return [
        Leg(
            i, g.class_name, g.symbol, g.side, g.amount, g.reference_price, g.derivative, g.reduce_only, g.unit_notional
        )
        for i, g in enumerate(ordered)
    ]
