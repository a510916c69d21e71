"""Tax lots: what each unit of an asset cost and when it was bought, and which lots a sale consumes.

A sale consumes lots by a method: ``fifo`` (oldest first), ``lifo`` (newest first), ``hifo`` (highest cost
first) or ``min-tax`` (the lots that realise the least tax). Each consumed lot realises
``(price - cost) x amount``, short-term when held less than ``long_term_after`` at the sale's time.
Tax = ``short_term_rate x max(0, net short-term gain) + long_term_rate x max(0, net long-term gain)``.

``min-tax`` is exact for one sale: within a term, the lots with the highest cost realise the least gain per
unit, so the choice reduces to how much to take from short-term lots (the rest from long-term ones); the tax
is a convex, piecewise-linear function of that amount, so its minimum lies at one of its breakpoints, and
every breakpoint is tried. ``carry`` gives the net gains of the plan's earlier sales, which the tax nets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

LOT_TOLERANCE = 1e-9
"""Relative tolerance between an asset's lots and its held amount (and between a sale and its lots)."""


class LotMethod(StrEnum):
    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"
    MIN_TAX = "min-tax"


@dataclass(frozen=True, slots=True)
class Lot:
    """An amount of ``asset`` bought at ``cost`` per unit (base currency) at ``acquired``."""

    asset: str
    amount: float
    cost: float
    acquired: datetime
    venue: str | None = None


@dataclass(frozen=True, slots=True)
class LotTake:
    """The part of one lot that a sale consumes, with the gain it realises at ``price``."""

    acquired: datetime
    amount: float
    cost: float
    price: float
    long_term: bool
    venue: str | None = None

    @property
    def gain(self) -> float:
        """``(price - cost) x amount``; negative for a loss."""
        return (self.price - self.cost) * self.amount

    def to_dict(self) -> dict[str, Any]:
        return {
            "acquired": self.acquired.isoformat().replace("+00:00", "Z"),
            "amount": self.amount,
            "cost": self.cost,
            "gain": self.gain,
            "term": "long" if self.long_term else "short",
        }


@dataclass(frozen=True, slots=True)
class TaxRules:
    """Lot selection and tax rates (the policy's ``[tax]`` table)."""

    method: LotMethod = LotMethod.FIFO
    short_term_rate: float = 0.0
    long_term_rate: float = 0.0
    long_term_after: timedelta = timedelta(days=365)

    def is_long_term(self, acquired: datetime, now: datetime) -> bool:
        """True when a lot bought at ``acquired`` has been held at least ``long_term_after`` at ``now``."""
        return now - acquired >= self.long_term_after

    def tax(self, short_gain: float, long_gain: float) -> float:
        """The tax on net short-term and long-term gains; losses of one term do not offset the other."""
        return self.short_term_rate * max(0.0, short_gain) + self.long_term_rate * max(0.0, long_gain)


@dataclass(frozen=True, slots=True)
class Realised:
    """Gains realised by one or more sales: net per term, and gross gains and losses (both >= 0)."""

    short_gain: float = 0.0
    long_gain: float = 0.0
    gains: float = 0.0
    losses: float = 0.0

    @classmethod
    def of(cls, takes: Sequence[LotTake]) -> Realised:
        short = sum(t.gain for t in takes if not t.long_term)
        long = sum(t.gain for t in takes if t.long_term)
        gains = sum(t.gain for t in takes if t.gain > 0.0)
        losses = -sum(t.gain for t in takes if t.gain < 0.0)
        return cls(short, long, gains, losses)

    def __add__(self, other: Realised) -> Realised:
        return Realised(
            self.short_gain + other.short_gain,
            self.long_gain + other.long_gain,
            self.gains + other.gains,
            self.losses + other.losses,
        )


@dataclass(frozen=True, slots=True)
class Selection:
    """The lots a sale consumes, and the part of the sale no lot covers (0 when the lots suffice)."""

    takes: tuple[LotTake, ...]
    uncovered: float


def _take(lot: Lot, amount: float, price: float, now: datetime, rules: TaxRules) -> LotTake:
    return LotTake(lot.acquired, amount, lot.cost, price, rules.is_long_term(lot.acquired, now), lot.venue)


def _by_method(lots: Sequence[Lot], method: LotMethod) -> list[Lot]:
    """Lots in the order a fifo, lifo or hifo sale consumes them (ties keep the given order)."""
    if method is LotMethod.FIFO:
        return sorted(lots, key=lambda lot: lot.acquired)
    if method is LotMethod.LIFO:
        return sorted(lots, key=lambda lot: lot.acquired, reverse=True)
    return sorted(lots, key=lambda lot: (-lot.cost, lot.acquired))


def _consume(
    ordered: Sequence[Lot], amount: float, price: float, now: datetime, rules: TaxRules
) -> tuple[list[LotTake], float]:
    """Take ``amount`` from ``ordered`` lots in order; returns the takes and the amount left uncovered."""
    takes: list[LotTake] = []
    remaining = amount
    for lot in ordered:
        if remaining <= LOT_TOLERANCE * amount:
            remaining = 0.0
            break
        if lot.amount <= 0.0:
            continue
        part = lot.amount if lot.amount <= remaining else remaining
        takes.append(_take(lot, part, price, now, rules))
        remaining -= part
    if remaining <= LOT_TOLERANCE * amount:
        remaining = 0.0
    return takes, remaining


def _cumulative(lots: Sequence[Lot], price: float) -> list[tuple[float, float]]:
    """Breakpoints ``(amount, gain)`` of taking ``lots`` in order, starting at ``(0, 0)``."""
    points = [(0.0, 0.0)]
    for lot in lots:
        amount, gain = points[-1]
        points.append((amount + lot.amount, gain + (price - lot.cost) * lot.amount))
    return points


def _gain_at(points: Sequence[tuple[float, float]], amount: float) -> float:
    """The gain of taking ``amount`` along the piecewise-linear ``points``."""
    for (a0, g0), (a1, g1) in pairwise(points):
        if amount <= a1:
            return g0 if a1 == a0 else g0 + (g1 - g0) * (amount - a0) / (a1 - a0)
    return points[-1][1]


def _crossings(points: Sequence[tuple[float, float]], level: float) -> list[float]:
    """Amounts at which the gain curve ``points`` equals ``level``."""
    out = []
    for (a0, g0), (a1, g1) in pairwise(points):
        if g0 != g1 and min(g0, g1) <= level <= max(g0, g1):
            out.append(a0 + (level - g0) * (a1 - a0) / (g1 - g0))
    return out


def _min_tax(
    lots: Sequence[Lot], amount: float, price: float, now: datetime, rules: TaxRules, carry: Realised
) -> tuple[list[LotTake], float]:
    """The lots that realise the least tax for a sale of ``amount``, given the plan's earlier gains."""
    short = _by_method([lot for lot in lots if not rules.is_long_term(lot.acquired, now)], LotMethod.HIFO)
    long = _by_method([lot for lot in lots if rules.is_long_term(lot.acquired, now)], LotMethod.HIFO)
    short_points = _cumulative(short, price)
    long_points = _cumulative(long, price)
    held_short, held_long = short_points[-1][0], long_points[-1][0]
    total = min(amount, held_short + held_long)
    high = min(held_short, total)
    low = min(max(0.0, total - held_long), high)

    def tax(from_short: float) -> tuple[float, float]:
        short_gain = carry.short_gain + _gain_at(short_points, from_short)
        long_gain = carry.long_gain + _gain_at(long_points, total - from_short)
        return rules.tax(short_gain, long_gain), short_gain + long_gain

    candidates = [low, high]
    candidates += [a for a, _ in short_points]
    candidates += [total - a for a, _ in long_points]
    candidates += _crossings(short_points, -carry.short_gain)
    candidates += [total - a for a in _crossings(long_points, -carry.long_gain)]
    best = min((min(max(c, low), high) for c in candidates), key=lambda c: (*tax(c), c))
    takes_short, _ = _consume(short, best, price, now, rules)
    takes_long, _ = _consume(long, total - best, price, now, rules)
    return takes_short + takes_long, amount - total


def select_lots(
    lots: Sequence[Lot],
    amount: float,
    price: float,
    now: datetime,
    rules: TaxRules,
    carry: Realised = Realised(),
) -> Selection:
    """The lots a sale of ``amount`` at ``price`` consumes under ``rules.method``.

    Parameters
    ----------
    lots:
        The candidate lots (one asset), in the order they were recorded.
    amount:
        The amount sold (positive).
    price:
        The sale price per unit in the base currency.
    now:
        The sale's time (short- or long-term).
    rules:
        The method and the tax rates (``min-tax`` needs them).
    carry:
        Gains already realised by the plan's earlier sales (``min-tax`` nets against them).

    Returns
    -------
    Selection
        The consumed parts of lots, and the amount that no lot covers.
    """
    if amount <= 0.0:
        return Selection((), 0.0)
    if rules.method is LotMethod.MIN_TAX:
        takes, uncovered = _min_tax(lots, amount, price, now, rules, carry)
    else:
        takes, uncovered = _consume(_by_method(lots, rules.method), amount, price, now, rules)
    return Selection(tuple(takes), uncovered if uncovered > LOT_TOLERANCE * amount else 0.0)


@dataclass(frozen=True, slots=True, init=False)
class LotBook:
    """Every open lot, per asset; sales and buys give a new book (the book is a value).

    Lots are kept per asset so that a sale looks only at its own asset's lots.
    """

    by_asset: Mapping[str, tuple[Lot, ...]]

    def __init__(self, lots: Iterable[Lot] = ()) -> None:
        grouped: dict[str, list[Lot]] = {}
        for lot in lots:
            grouped.setdefault(lot.asset, []).append(lot)
        object.__setattr__(self, "by_asset", {asset: tuple(items) for asset, items in grouped.items()})

    @classmethod
    def _of_groups(cls, groups: Mapping[str, tuple[Lot, ...]]) -> LotBook:
        book = cls()
        object.__setattr__(book, "by_asset", {asset: lots for asset, lots in groups.items() if lots})
        return book

    @property
    def lots(self) -> tuple[Lot, ...]:
        """Every open lot, asset by asset, each asset's in the order they were recorded."""
        return tuple(lot for lots in self.by_asset.values() for lot in lots)

    def of(self, asset: str) -> tuple[Lot, ...]:
        """The open lots of ``asset``, in the order they were recorded."""
        return self.by_asset.get(asset, ())

    def amount(self, asset: str) -> float:
        """The amount the lots of ``asset`` cover."""
        return sum(lot.amount for lot in self.of(asset))

    def assets(self) -> set[str]:
        return set(self.by_asset)

    def select(
        self,
        asset: str,
        amount: float,
        price: float,
        now: datetime,
        rules: TaxRules,
        venue: str | None = None,
        carry: Realised = Realised(),
    ) -> Selection:
        """The lots a sale on ``venue`` consumes: that venue's lots (and those naming none) first.

        When they do not cover the sale, the rest comes from the asset's lots on other venues, by the same
        method.
        """
        lots = self.of(asset)
        if venue is None:
            return select_lots(lots, amount, price, now, rules, carry)
        own = [lot for lot in lots if lot.venue in (venue, None)]
        first = select_lots(own, amount, price, now, rules, carry)
        if first.uncovered == 0.0 or len(own) == len(lots):
            return first
        others = [lot for lot in lots if lot.venue not in (venue, None)]
        rest = select_lots(others, first.uncovered, price, now, rules, carry + Realised.of(first.takes))
        return Selection(first.takes + rest.takes, rest.uncovered)

    def consume(self, asset: str, takes: Sequence[LotTake]) -> LotBook:
        """The book with ``takes`` removed from the lots of ``asset`` they came from."""
        owed: dict[tuple[datetime, float, str | None], float] = {}
        for take in takes:
            key = (take.acquired, take.cost, take.venue)
            owed[key] = owed.get(key, 0.0) + take.amount
        kept: list[Lot] = []
        for lot in self.of(asset):
            key = (lot.acquired, lot.cost, lot.venue)
            due = owed.get(key, 0.0)
            if due <= 0.0:
                kept.append(lot)
                continue
            used = min(due, lot.amount)
            owed[key] = due - used
            left = lot.amount - used
            if left > LOT_TOLERANCE * lot.amount:
                kept.append(Lot(lot.asset, left, lot.cost, lot.acquired, lot.venue))
        return LotBook._of_groups({**self.by_asset, asset: tuple(kept)})

    def sell(
        self,
        asset: str,
        amount: float,
        price: float,
        now: datetime,
        rules: TaxRules,
        venue: str | None = None,
        carry: Realised = Realised(),
    ) -> tuple[LotBook, Selection]:
        """Sell ``amount`` of ``asset``: the book after the sale and the lots it consumed."""
        selection = self.select(asset, amount, price, now, rules, venue, carry)
        return self.consume(asset, selection.takes), selection

    def buy(self, asset: str, amount: float, price: float, when: datetime, venue: str | None = None) -> LotBook:
        """The book with a new lot of ``amount`` bought at ``price`` (fill price) at ``when``."""
        if amount <= 0.0:
            return self
        return LotBook._of_groups({**self.by_asset, asset: (*self.of(asset), Lot(asset, amount, price, when, venue))})
