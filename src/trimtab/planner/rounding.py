"""Rounding orders to what a venue accepts, and dropping those too small to send.

Where the snapshot carries a market's rules (``MarketSnapshot.markets``), amounts are rounded *down* to
its ``amount_step`` (ccxt's ``amount_to_precision`` truncates the same way) and an order below its
``min_amount`` or ``min_notional`` is dropped. Where the rules are unknown the exact amount is kept.
Every order below the policy's ``min_notional``, or whose amount rounds to zero, is dropped as well.
Each dropped order is named in a note.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Trade

STEP_TOLERANCE = 1e-9
"""Relative slack so that 0.3 / 0.1 = 2.9999999999999996 still floors to 3 steps."""


def floor_to_step(amount: float, step: float) -> float:
    """``amount`` rounded down to a multiple of ``step`` (unchanged when ``step`` is 0).

    The multiple is formed in decimal so that 13793 steps of 0.00001 read 0.13793, not 0.13793000000000002.
    """
    if step <= 0.0:
        return amount
    count = math.floor(amount / step + STEP_TOLERANCE)
    if count <= 0:
        return 0.0
    return float(Decimal(count) * Decimal(repr(step)))


@dataclass(frozen=True, slots=True)
class Rounded:
    """The orders kept (rounded) and a note per order dropped."""

    trades: tuple[Trade, ...]
    notes: tuple[str, ...]


def _describe(trade: Trade) -> str:
    return f"{trade.side.value} {trade.amount:.8g} {trade.symbol} (notional {trade.notional:.2f})"


def round_trade(trade: Trade, market: MarketSnapshot, min_notional: float) -> tuple[Trade | None, str]:
    """One order rounded to its market's step, or None and the reason it was dropped."""
    rules = market.markets.get(trade.symbol)
    amount = trade.amount
    notional = trade.notional
    if rules is not None and rules.amount_step > 0.0:
        rounded = floor_to_step(amount, rules.amount_step)
        notional = notional * rounded / amount if amount > 0.0 else 0.0
        amount = rounded
    if amount <= 0.0 or notional <= 0.0:
        return None, f"skipped {_describe(trade)}: the amount rounds to zero"
    if rules is not None and amount < rules.min_amount:
        return None, f"skipped {_describe(trade)}: below the venue's min_amount {rules.min_amount:g}"
    if rules is not None and notional < rules.min_notional:
        return None, f"skipped {_describe(trade)}: below the venue's min_notional {rules.min_notional:g}"
    if notional < min_notional:
        return None, f"skipped {_describe(trade)}: below min_notional {min_notional:g}"
    if amount == trade.amount:
        return trade, ""
    return replace(trade, amount=amount, notional=notional), ""


def round_trades(trades: Iterable[Trade], market: MarketSnapshot, min_notional: float) -> Rounded:
    """Round every order and drop those that cannot or should not be sent.

    Parameters
    ----------
    trades:
        Orders with exact amounts.
    market:
        The snapshot; its ``markets`` give lot sizes and minimums per symbol.
    min_notional:
        The policy's ``[rebalance] min_notional``, in the base currency.

    Returns
    -------
    Rounded
        The orders kept, in their order, and one note per order dropped.
    """
    kept: list[Trade] = []
    notes: list[str] = []
    for trade in trades:
        rounded, why = round_trade(trade, market, min_notional)
        if rounded is None:
            notes.append(why)
        else:
            kept.append(rounded)
    return Rounded(tuple(kept), tuple(notes))
