"""Rounding orders to what a venue accepts, and dropping those too small to send.

Where the snapshot carries a market's rules (``MarketSnapshot.markets``), amounts are rounded *down* to
its ``amount_step`` (ccxt's ``amount_to_precision`` truncates the same way) and an order below its
``min_amount`` or ``min_notional`` is dropped. Where the rules are unknown the exact amount is kept.
Every order below the policy's ``min_notional``, or whose amount rounds to zero, is dropped as well.
Each dropped order is named in a note.

A band-edge order may instead be rounded *up* (away from zero) to the step, toward the inside of its
class's band, so that lot rounding cannot leave the class just outside the edge it was sized to reach:
the caller passes the largest amount the order may grow to (:func:`edge_limits`: what the account holds for a
sale, and what keeps the class off the far side of its band); where the rounded-up amount would exceed it,
the order rounds down as usual.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Side, Trade
from trimtab.domain.portfolio import Portfolio

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


def ceil_to_step(amount: float, step: float) -> float:
    """``amount`` rounded up to a multiple of ``step`` (unchanged when ``step`` is 0)."""
    if step <= 0.0:
        return amount
    count = math.ceil(amount / step - STEP_TOLERANCE)
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


def round_trade(
    trade: Trade, market: MarketSnapshot, min_notional: float, up_to: float | None = None
) -> tuple[Trade | None, str]:
    """One order rounded to its market's step, or None and the reason it was dropped.

    With ``up_to`` (a band-edge order) the amount rounds up to the step when that stays within ``up_to``.
    """
    rules = market.markets.get(trade.symbol)
    amount = trade.amount
    notional = trade.notional
    if rules is not None and rules.amount_step > 0.0:
        rounded = floor_to_step(amount, rules.amount_step)
        if up_to is not None:
            up = ceil_to_step(amount, rules.amount_step)
            rounded = up if up <= up_to * (1.0 + STEP_TOLERANCE) else rounded
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


def round_trades(
    trades: Iterable[Trade], market: MarketSnapshot, min_notional: float, limits: Sequence[float | None] = ()
) -> Rounded:
    """Round every order and drop those that cannot or should not be sent.

    Parameters
    ----------
    trades:
        Orders with exact amounts.
    market:
        The snapshot; its ``markets`` give lot sizes and minimums per symbol.
    min_notional:
        The policy's ``[rebalance] min_notional``, in the base currency.
    limits:
        Per order (same order), the largest amount a band-edge order may round up to, or None (and every
        order past the end of ``limits``) to round down.

    Returns
    -------
    Rounded
        The orders kept, in their order, and one note per order dropped.
    """
    kept: list[Trade] = []
    notes: list[str] = []
    for index, trade in enumerate(trades):
        up_to = limits[index] if index < len(limits) else None
        rounded, why = round_trade(trade, market, min_notional, up_to)
        if rounded is None:
            notes.append(why)
        else:
            kept.append(rounded)
    return Rounded(tuple(kept), tuple(notes))


def edge_limits(
    trades: Sequence[Trade],
    portfolio: Portfolio,
    market: MarketSnapshot,
    rooms: Mapping[str, tuple[float, float]],
) -> list[float | None]:
    """Per order of a band-edge plan, the largest amount it may round up to (None: round down).

    ``rooms``: class -> (how much it may still fall, how much it may still rise) in the base currency before
    it crosses the far edge of its band from its goal. A spot order may round up when its class's room in
    the order's direction covers the extra notional (the room is shared by the class's orders, in order)
    and, for a sale, when the account holds the amount. Derivative orders round down as usual.
    """
    held: dict[tuple[str, str], float] = {}
    for holding in portfolio.spot:
        key = (holding.asset, holding.venue)
        held[key] = held.get(key, 0.0) + holding.amount
    left = {name: list(room) for name, room in rooms.items()}
    limits: list[float | None] = []
    for trade in trades:
        rules = market.markets.get(trade.symbol)
        room = left.get(trade.class_name)
        if trade.instrument is not InstrumentKind.SPOT or rules is None or rules.amount_step <= 0.0 or room is None:
            limits.append(None)
            continue
        side = 0 if trade.side is Side.SELL else 1
        price = trade.notional / trade.amount if trade.amount > 0.0 else 0.0
        extra = (ceil_to_step(trade.amount, rules.amount_step) - trade.amount) * price
        cap = trade.amount + room[side] / price if price > 0.0 else trade.amount
        if trade.side is Side.SELL:
            cap = min(cap, held.get((parse_symbol(trade.symbol).base, trade.venue), 0.0))
        room[side] = max(room[side] - max(extra, 0.0), 0.0)
        limits.append(cap)
    return limits
