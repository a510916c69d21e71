"""Margin and liquidation risk as limits on the hedges ``auto`` chooses.

``auto`` takes, per class, the cheaper of spot and the class's hedge by the contract's cost model
(:mod:`trimtab.planner.costs`), "within what the account's margin can carry". Margin use and liquidation risk
are therefore limits here, not costs (pricing them is opt-in: ``[costs] margin_rate`` and
``liquidation_risk``). Once the plan's orders are sized, funded by transfers and reviewed by the margin guard
(:mod:`trimtab.planner.guard`), a hedge that ``auto`` chose is **refused**, and its class traded spot instead,
when

* **margin cannot carry it**: the guard had to cut the plan's new derivative exposure (an account's collateral
  below ``(1 + margin_buffer) x`` its initial margin with the hedges opened at ``hedge_leverage``, or the gross
  leverage cap, or a margin tier's maximum leverage). The guard keeps a share ``s`` of every opening; ``auto``
  keeps its hedges with the largest saving per unit of notional as long as their openings fit in that share
  (less what the plan's other openings need) and refuses the others;
* **it would open inside the liquidation buffer**: its position's liquidation distance right after the plan
  (the account model's, as the plan's ``positions`` report it, isolated or cross) is below the buffer of
  :func:`volatility_buffer`, the one the session's deleveraging ladder keeps. A hedge opened there would be cut
  at the next check.

The orders are then sized again with the refused classes on spot, and checked again, until no hedge is
refused; each refusal is a note of the plan.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence

from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.plan import Trade
from trimtab.planner.guard import Reviewed
from trimtab.planner.orders import Orders

DEFAULT_LIQUIDATION_BUFFER = 0.10
"""The liquidation buffer of a run without settings (its execution settings' ``liquidation_buffer``)."""

Buffers = float | Mapping[str, float]
"""One liquidation buffer for every position, or one per symbol (a symbol left out has the smallest given)."""

HEDGE_KINDS = (InstrumentKind.PERP, InstrumentKind.FUTURE)


def volatility_buffer(fixed: float, sigmas: float, volatility: float | None, interval_days: float) -> float:
    """A position's liquidation buffer: ``max(fixed, sigmas x volatility x sqrt(interval_days / 365))``.

    A buffer checked once per interval protects against what the asset can move in one interval; ``sigmas``
    standard deviations of that move (``volatility`` annual, realised) widen the ``fixed`` buffer. Without a
    volatility, a positive interval or ``sigmas``, the buffer is ``fixed``; a ``fixed`` buffer of 0 turns the
    guard off and stays 0.
    """
    if fixed <= 0.0 or sigmas <= 0.0 or volatility is None or not math.isfinite(volatility) or interval_days <= 0.0:
        return max(fixed, 0.0)
    return max(fixed, sigmas * volatility * math.sqrt(interval_days / 365.0))


class EstimatedBuffers(Mapping[str, float]):
    """Buffers from estimates, worked out when first read, with a cheaper ceiling for each symbol: a position
    beyond the ceiling is outside its buffer without the estimate being made."""

    @abstractmethod
    def ceiling(self, symbol: str) -> float:
        """A value the buffer of ``symbol`` does not exceed (infinite where no cheap one exists)."""


def inside_buffer(buffers: Buffers, symbol: str, distance: float) -> bool:
    """Whether a position ``distance`` from its liquidation price is inside the buffer of ``symbol``."""
    if isinstance(buffers, (float, int)):  # a tuple: a cheaper check than a union, on every position every cycle
        return distance < buffers
    if isinstance(buffers, EstimatedBuffers) and distance >= buffers.ceiling(symbol):
        return False
    return distance < buffer_of(buffers, symbol)


def buffer_of(buffers: Buffers, symbol: str) -> float:
    """The buffer that applies to ``symbol``."""
    if isinstance(buffers, Mapping):
        found = buffers.get(symbol)
        return found if found is not None else min(buffers.values(), default=0.0)
    return buffers


MAX_ROUNDS = 8
"""Sizings after the first; each refuses at least one more hedge, so a plan with fewer auto hedges stops sooner."""


def within_limits(size: Callable[[Mapping[str, str]], Orders], buffers: Buffers, leverage: float) -> Orders:
    """The orders with every ``auto`` hedge that margin cannot carry, or that would open inside its liquidation
    buffer, refused (``size`` sizes the plan with the classes given, each with its reason, traded spot)."""
    refused: dict[str, str] = {}
    orders = size(refused)
    for _ in range(MAX_ROUNDS):
        more = _refusals(orders, buffers, leverage)
        if not more:
            break
        refused.update(more)
        orders = size(refused)
    return orders


def _openings(trades: Sequence[Trade]) -> dict[str, float]:
    """Class -> notional of its derivative openings (orders that are not ``reduce_only``)."""
    out: dict[str, float] = {}
    for t in trades:
        if t.instrument in HEDGE_KINDS and not t.reduce_only:
            out[t.class_name] = out.get(t.class_name, 0.0) + t.notional
    return out


def _refusals(orders: Orders, buffers: Buffers, leverage: float) -> dict[str, str]:
    """The auto hedges to refuse after this sizing, class -> why (empty: every one is within the limits)."""
    openings = _openings(orders.ordered)
    hedged = {name: choice for name, choice in orders.sizing.hedged.items() if openings.get(name, 0.0) > 0.0}
    if not hedged:
        return {}
    reviewed = orders.reviewed
    if reviewed.scale < 1.0:
        return _margin_refusals(openings, hedged, reviewed, leverage)
    refused = {}
    for name, (symbol, _saving) in hedged.items():
        distances = [
            p.liquidation_distance
            for p in reviewed.valuation.positions
            if p.symbol == symbol and p.liquidation_distance is not None
        ]
        if distances and inside_buffer(buffers, symbol, min(distances)):
            limit = buffer_of(buffers, symbol)
            refused[name] = (
                f"it would open {min(distances):.1%} from its liquidation price, inside the liquidation buffer "
                f"of {limit:.1%}"
            )
    return refused


def _margin_refusals(
    openings: Mapping[str, float], hedged: Mapping[str, tuple[str, float]], reviewed: Reviewed, leverage: float
) -> dict[str, str]:
    """Keep the hedges that save the most per unit of notional within the share the guard carries."""
    others = sum(notional for name, notional in openings.items() if name not in hedged)
    room = reviewed.scale * sum(openings.values()) - others
    why = (
        f"the accounts' margin cannot carry it at hedge_leverage {leverage:g} (the margin guard would cut the new "
        f"derivative exposure to {reviewed.scale * 100:.2f} %: {reviewed.reason})"
    )
    refused = {}
    for name in sorted(hedged, key=lambda n: -hedged[n][1]):
        need = openings[name]
        if need <= room * (1.0 + 1e-12):
            room -= need
        else:
            refused[name] = why
    return refused
