"""A plan's spot sales against the tax lots: which lots each sale consumes, the gains and the tax.

Sales are matched in plan order, each against the lots the earlier ones left. Under ``min-tax`` each sale
takes the lots that realise the least tax given the gains of the sales before it (exact for a plan that
sells one asset); the plan then keeps that matching only if no single ordering (``fifo``, ``lifo``,
``hifo``) applied to every sale gives less tax, so ``min-tax`` is never worse than any of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.lots import LotBook, LotMethod, Realised, TaxRules

if TYPE_CHECKING:
    from trimtab.domain.plan import Trade

REPORTING_RULES = TaxRules()
"""Without ``[tax]`` lots are only reported: sales consume them first in, first out, at no tax."""


@dataclass(frozen=True, slots=True)
class TaxOutcome:
    """The plan's trades with their lots, the gains they realise, the tax and the book after the sales.

    ``tax`` is None without tax rules (lots only reported).
    """

    trades: tuple[Trade, ...]
    realised: Realised
    tax: float | None
    book: LotBook
    notes: tuple[str, ...] = ()


def is_spot_sale(trade: Trade) -> bool:
    from trimtab.domain.plan import Side  # here: a backtest's lot replay (apply_fills) loads no plan module

    return trade.instrument is InstrumentKind.SPOT and trade.side is Side.SELL


def _match(
    trades: Sequence[Trade], book: LotBook, rules: TaxRules, now: datetime
) -> tuple[list[Trade], Realised, LotBook, list[str]]:
    out: list[Trade] = []
    notes: list[str] = []
    realised = Realised()
    for trade in trades:
        if not is_spot_sale(trade):
            out.append(trade)
            continue
        asset = parse_symbol(trade.symbol).base
        book, selection = book.sell(asset, trade.amount, trade.price, now, rules, trade.venue, realised)
        realised = realised + Realised.of(selection.takes)
        if selection.uncovered > 0.0:
            notes.append(
                f"{trade.class_name}: {selection.uncovered:.8g} of the {trade.amount:.8g} {asset} sold is in no lot; "
                "its gain is not counted"
            )
        out.append(replace(trade, lots=selection.takes))
    return out, realised, book, notes


def realise(trades: Sequence[Trade], book: LotBook, rules: TaxRules | None, now: datetime) -> TaxOutcome:
    """Match every spot sale of ``trades`` with the lots of ``book`` it consumes.

    Parameters
    ----------
    trades:
        The plan's orders, in plan order (only spot sales consume lots).
    book:
        The open lots before the plan.
    rules:
        The policy's ``[tax]`` rules, or None (lots matched first in, first out; no tax).
    now:
        The snapshot's time: a lot held at least ``long_term_after`` by then is long-term.

    Returns
    -------
    TaxOutcome
        The trades with ``lots`` on spot sales, the realised gains, the tax (None without rules), the book
        after the sales and a note for each sale that no lot covers.
    """
    effective = rules if rules is not None else REPORTING_RULES
    if not trades or not any(is_spot_sale(t) for t in trades):  # nothing consumes a lot (a quiet cycle's plan)
        return TaxOutcome(tuple(trades), Realised(), effective.tax(0.0, 0.0) if rules is not None else None, book)
    matched, realised, after, notes = _match(trades, book, effective, now)
    if effective.method is LotMethod.MIN_TAX:
        best_tax = effective.tax(realised.short_gain, realised.long_gain)
        for method in (LotMethod.FIFO, LotMethod.LIFO, LotMethod.HIFO):
            other = _match(trades, book, replace(effective, method=method), now)
            other_tax = effective.tax(other[1].short_gain, other[1].long_gain)
            if other_tax < best_tax:
                matched, realised, after, notes = other
                best_tax = other_tax
    tax = effective.tax(realised.short_gain, realised.long_gain) if rules is not None else None
    return TaxOutcome(tuple(matched), realised, tax, after, tuple(notes))


def sale_tax(trades: Sequence[Trade], book: LotBook, rules: TaxRules, now: datetime) -> float:
    """The tax that ``trades``' spot sales would realise on their own (for the ``auto`` choice)."""
    outcome = realise(trades, book, rules, now)
    return outcome.tax if outcome.tax is not None else 0.0


@dataclass(frozen=True, slots=True)
class SpotFill:
    """A filled spot order as the lots see it: ``signed_amount`` > 0 buys, at ``price`` in the base currency."""

    asset: str
    signed_amount: float
    price: float
    venue: str | None = None


def apply_fills(
    book: LotBook, fills: Sequence[SpotFill], rules: TaxRules | None, now: datetime
) -> tuple[LotBook, Realised, float]:
    """The book after one cycle's spot fills, the gains they realise and the part of sales no lot covered.

    Sales consume lots by the rules' method (first in, first out without rules), each netted against the
    cycle's earlier sales under ``min-tax``; buys open lots at their fill price at ``now``.
    """
    effective = rules if rules is not None else REPORTING_RULES
    realised = Realised()
    uncovered = 0.0
    for fill in fills:
        if fill.signed_amount > 0.0:
            book = book.buy(fill.asset, fill.signed_amount, fill.price, now, fill.venue)
        elif fill.signed_amount < 0.0:
            book, selection = book.sell(
                fill.asset, -fill.signed_amount, fill.price, now, effective, fill.venue, realised
            )
            realised = realised + Realised.of(selection.takes)
            uncovered += selection.uncovered
    return book, realised, uncovered
