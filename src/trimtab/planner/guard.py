"""The margin guard: cuts a plan's new derivative exposure until margin and leverage limits hold.

After the plan (applied at the snapshot, fees paid) two limits must hold:

* free collateral >= ``(1 + margin_buffer) x initial margin``;
* gross leverage <= ``max_leverage``.

If they do not, every order that increases derivative exposure (a derivative order that is not
``reduce_only``) is scaled by one common factor ``s`` in ``[0, 1]``. Free collateral, initial margin,
gross exposure and equity are all linear in ``s`` (new positions open at the mark, fees are linear in
notional), so the largest admissible ``s`` follows in closed form from the plan valued with ``s = 0``
and ``s = 1``; it is then checked, and bisected should rounding to lot sizes break linearity. If the
limits fail even with ``s = 0`` the derivative openings are dropped, ``ok`` is false and the notes say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import MarginReport, Trade
from trimtab.planner.rounding import round_trade
from trimtab.valuation.model import Valuation

BISECTION_STEPS = 12
SAFETY = 1.0 - 1e-9
"""The closed-form factor is shrunk by this much so that the limits hold despite float rounding."""


@dataclass(frozen=True, slots=True)
class Limits:
    """``[rebalance]`` margin limits."""

    margin_buffer: float
    max_leverage: float


@dataclass(frozen=True, slots=True)
class Reviewed:
    """The trades after the guard, the valuation after them, the margin report and the guard's notes."""

    trades: tuple[Trade, ...]
    valuation: Valuation
    margin: MarginReport
    notes: tuple[str, ...]
    scale: float = 1.0


def margin_report(valuation: Valuation, limits: Limits) -> MarginReport:
    """Margin figures of ``valuation`` and whether both limits hold."""
    required = (1.0 + limits.margin_buffer) * valuation.initial_margin
    ok = valuation.free_collateral >= required and valuation.gross_leverage <= limits.max_leverage
    return MarginReport(
        initial=valuation.initial_margin,
        free_collateral=valuation.free_collateral,
        required=required,
        maintenance=valuation.maintenance_margin,
        gross_leverage=valuation.gross_leverage,
        ok=ok,
    )


def _slacks(valuation: Valuation, limits: Limits) -> tuple[float, float]:
    """Margin and leverage slack; both are >= 0 exactly when the limits hold."""
    margin = valuation.free_collateral - (1.0 + limits.margin_buffer) * valuation.initial_margin
    leverage = limits.max_leverage * valuation.equity - valuation.gross_exposure
    return margin, leverage


def _largest_scale(at_zero: Valuation, at_one: Valuation, limits: Limits) -> float:
    scale = 1.0
    for low, high in zip(_slacks(at_zero, limits), _slacks(at_one, limits), strict=True):
        if high < 0.0:
            scale = min(scale, low / (low - high))
    return max(scale * SAFETY, 0.0)


def _is_opening(trade: Trade) -> bool:
    return trade.instrument is not InstrumentKind.SPOT and not trade.reduce_only


def _describe(margin: MarginReport, limits: Limits) -> str:
    problems = []
    if margin.free_collateral < margin.required:
        problems.append(
            f"free collateral {margin.free_collateral:.2f} < required {margin.required:.2f} "
            f"((1 + {limits.margin_buffer:g}) x initial margin {margin.initial:.2f})"
        )
    if margin.gross_leverage > limits.max_leverage:
        problems.append(f"gross leverage {margin.gross_leverage:.3f} > max_leverage {limits.max_leverage:g}")
    return " and ".join(problems)


def review(
    trades: Sequence[Trade],
    evaluate: Callable[[Sequence[Trade]], Valuation],
    market: MarketSnapshot,
    limits: Limits,
    min_notional: float,
) -> Reviewed:
    """Cut the plan's derivative openings down until the margin limits hold.

    Parameters
    ----------
    trades:
        The plan's orders, rounded.
    evaluate:
        Values the portfolio after a list of orders (apply at the snapshot, then valuate).
    market:
        The snapshot (lot sizes for re-rounding the scaled orders).
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
    margin = margin_report(after, limits)
    if margin.ok:
        return Reviewed(trades, after, margin, ())
    if not any(_is_opening(t) for t in trades):
        note = f"margin guard: {_describe(margin, limits)}; the plan opens no derivative exposure to cut"
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
            rounded, why = round_trade(smaller, market, min_notional)
            if rounded is None:
                dropped.append(why)
            else:
                kept.append(rounded)
        return tuple(kept), tuple(dropped)

    why = _describe(margin, limits)
    without, _ = scaled(0.0)
    at_zero = evaluate(without)
    zero_margin = margin_report(at_zero, limits)
    if not zero_margin.ok:
        note = (
            f"margin guard: {why}; even without new derivative exposure {_describe(zero_margin, limits)}, "
            "so every derivative opening was dropped"
        )
        return Reviewed(without, at_zero, zero_margin, (note,), 0.0)

    scale = _largest_scale(at_zero, after, limits)
    candidate, dropped = scaled(scale)
    valuation = evaluate(candidate)
    final = margin_report(valuation, limits)
    if not final.ok:
        low, high = 0.0, scale
        no_notes: tuple[str, ...] = ()
        best = (without, no_notes, at_zero, zero_margin, 0.0)
        for _ in range(BISECTION_STEPS):
            middle = 0.5 * (low + high)
            trial, trial_dropped = scaled(middle)
            trial_valuation = evaluate(trial)
            trial_margin = margin_report(trial_valuation, limits)
            if trial_margin.ok:
                low, best = middle, (trial, trial_dropped, trial_valuation, trial_margin, middle)
            else:
                high = middle
        candidate, dropped, valuation, final, scale = best
    note = f"margin guard: {why}; new derivative exposure cut to {scale * 100:.2f} % of the planned size"
    return Reviewed(candidate, valuation, final, (note, *dropped), scale)
