"""The margin guard: cuts a plan's new derivative exposure until every limit holds.

After the plan (transfers made, orders applied at the snapshot, fees paid) the limits of
:mod:`trimtab.planner.limits` must hold: each derivatives or unified account's margin buffer, the gross
leverage cap and each position's margin-tier maximum leverage.

If they do not, every order that increases derivative exposure (a derivative order that is not
``reduce_only``) is scaled by one common factor ``s`` in ``[0, 1]``. Each limit's slack is linear in ``s``
(new positions open at the mark, fees are linear in notional), so the largest admissible ``s`` follows in
closed form from the plan valued with ``s = 0`` and ``s = 1``; it is then checked, and bisected should
rounding to lot sizes (or a position crossing into another margin tier) break linearity. If the limits fail
even with ``s = 0`` the derivative openings are dropped, ``ok`` is false and the notes say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import MarginReport, Trade
from trimtab.planner.limits import Limits, describe, margin_report, slacks, tier_caps
from trimtab.planner.rounding import round_trade
from trimtab.valuation.model import Valuation

__all__ = ["BISECTION_STEPS", "Limits", "Reviewed", "margin_report", "review"]

BISECTION_STEPS = 12
SAFETY = 1.0 - 1e-9
"""The closed-form factor is shrunk by this much so that the limits hold despite float rounding."""


@dataclass(frozen=True, slots=True)
class Reviewed:
    """The trades after the guard, the valuation after them, the margin report and the guard's notes."""

    trades: tuple[Trade, ...]
    valuation: Valuation
    margin: MarginReport
    notes: tuple[str, ...]
    scale: float = 1.0
    reason: str = ""
    """What the book broke before the cut (empty when nothing was cut)."""


def _largest_scale(at_zero: Valuation, at_one: Valuation, limits: Limits, market: MarketSnapshot) -> float:
    low_slacks = slacks(at_zero, limits, market)
    caps = tier_caps(at_one, market)
    scale = 1.0
    for key, high in slacks(at_one, limits, market).items():
        if high >= 0.0:
            continue
        # A position the openings create starts, at s = 0, with its whole tier cap as slack.
        low = low_slacks.get(key, caps.get(key, 0.0))
        if low <= 0.0:
            return 0.0
        scale = min(scale, low / (low - high))
    return max(scale * SAFETY, 0.0)


def _is_opening(trade: Trade) -> bool:
    return trade.instrument is not InstrumentKind.SPOT and not trade.reduce_only


def review(
    trades: Sequence[Trade],
    evaluate: Callable[[Sequence[Trade]], Valuation],
    market: MarketSnapshot,
    limits: Limits,
    min_notional: float,
) -> Reviewed:
    """Cut the plan's derivative openings down until every limit holds.

    Parameters
    ----------
    trades:
        The plan's orders, rounded.
    evaluate:
        Values the portfolio after a list of orders (the plan's transfers made, the orders applied at the
        snapshot).
    market:
        The snapshot (lot sizes for re-rounding the scaled orders, margin tiers).
    limits:
        Margin buffer and maximum gross leverage.
    min_notional:
        The policy's minimum order; scaled orders below it are dropped.

    Returns
    -------
    Reviewed
        The orders kept, the valuation after them, the margin report (``ok`` is the final state) and notes.
    """
    trades = tuple(trades)
    after = evaluate(trades)
    margin = margin_report(after, limits, market)
    if margin.ok:
        return Reviewed(trades, after, margin, ())
    why = describe(after, limits, market)
    if not any(_is_opening(t) for t in trades):
        note = f"margin guard: {why}; the plan opens no derivative exposure to cut"
        return Reviewed(trades, after, margin, (note,))

    def scaled(scale: float) -> tuple[tuple[Trade, ...], tuple[str, ...]]:
        kept: list[Trade] = []
        dropped: list[str] = []
        for trade in trades:
            if not _is_opening(trade):
                kept.append(trade)
                continue
            if scale <= 0.0:
                continue
            smaller = replace(trade, amount=trade.amount * scale, notional=trade.notional * scale)
            rounded, reason = round_trade(smaller, market, min_notional)
            if rounded is None:
                dropped.append(reason)
            else:
                kept.append(rounded)
        return tuple(kept), tuple(dropped)

    without, _ = scaled(0.0)
    at_zero = evaluate(without)
    zero_margin = margin_report(at_zero, limits, market)
    if not zero_margin.ok:
        note = (
            f"margin guard: {why}; even without new derivative exposure {describe(at_zero, limits, market)}, "
            "so every derivative opening was dropped"
        )
        return Reviewed(without, at_zero, zero_margin, (note,), 0.0, why)

    scale = _largest_scale(at_zero, after, limits, market)
    candidate, dropped = scaled(scale)
    valuation = evaluate(candidate)
    final = margin_report(valuation, limits, market)
    if not final.ok:
        candidate, dropped, valuation, final, scale = _bisect(scaled, evaluate, limits, market, scale, without, at_zero)
    note = f"margin guard: {why}; new derivative exposure cut to {scale * 100:.2f} % of the planned size"
    return Reviewed(candidate, valuation, final, (note, *dropped), scale, why)


def _bisect(
    scaled: Callable[[float], tuple[tuple[Trade, ...], tuple[str, ...]]],
    evaluate: Callable[[Sequence[Trade]], Valuation],
    limits: Limits,
    market: MarketSnapshot,
    high: float,
    without: tuple[Trade, ...],
    at_zero: Valuation,
) -> tuple[tuple[Trade, ...], tuple[str, ...], Valuation, MarginReport, float]:
    """The largest scale in ``[0, high]`` found by bisection at which every limit holds."""
    low = 0.0
    no_notes: tuple[str, ...] = ()
    best = (without, no_notes, at_zero, margin_report(at_zero, limits, market), 0.0)
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        trial, trial_dropped = scaled(middle)
        trial_valuation = evaluate(trial)
        trial_margin = margin_report(trial_valuation, limits, market)
        if trial_margin.ok:
            low, best = middle, (trial, trial_dropped, trial_valuation, trial_margin, middle)
        else:
            high = middle
    return best
