"""Tax lots in a backtest: the run's spot fills replayed through a lot book, and the tax they realise.

Every spot buy opens a lot at its fill price (the initial purchase included); every spot sale consumes lots
by the policy's ``[tax] method`` (first in, first out without ``[tax]``) at its fill price. The fills of
one bar are one cycle: under ``min-tax`` each sale nets against the bar's earlier sales, as the rebalancing
session does. Both backtest paths (the event engine and the kernel) give the same trade log, so the same
figures.

Tax is netted per calendar year (UTC), as tax authorities do: ``tax = sum over years of short_term_rate x
max(0, the year's net short-term gain) + long_term_rate x max(0, the year's net long-term gain)``. It is
reported, not paid from the account: the equity curve is before tax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trimtab.domain.instruments import parse_symbol
from trimtab.domain.lots import LotBook, Realised, TaxRules
from trimtab.planner.tax import SpotFill, apply_fills


@dataclass(frozen=True, slots=True)
class TaxRecord:
    """A run's realised gains per calendar year, the tax on them and the lots left open at the end."""

    years: dict[int, Realised] = field(default_factory=dict)
    tax: float = 0.0
    book: LotBook = field(default_factory=LotBook)
    uncovered: float = 0.0

    @property
    def realised(self) -> Realised:
        total = Realised()
        for year in sorted(self.years):
            total = total + self.years[year]
        return total

    def metrics(self) -> dict[str, float]:
        """``tax``, ``realised_gain`` (gross gains) and ``realised_loss`` (gross losses, >= 0)."""
        realised = self.realised
        return {"tax": self.tax, "realised_gain": realised.gains, "realised_loss": realised.losses}


def _by_bar(trades: Sequence[dict[str, Any]]) -> list[tuple[str, list[SpotFill]]]:
    """The spot fills of the log, grouped by their time, in log order (sales before buys within a bar)."""
    bars: list[tuple[str, list[SpotFill]]] = []
    for row in trades:
        if row.get("instrument") != "spot":
            continue
        signed = row["amount"] if row["side"] == "buy" else -row["amount"]
        fill = SpotFill(parse_symbol(row["symbol"]).base, signed, row["price"])
        if bars and bars[-1][0] == row["timestamp"]:
            bars[-1][1].append(fill)
        else:
            bars.append((row["timestamp"], [fill]))
    return bars


def tax_record(trades: Sequence[dict[str, Any]], rules: TaxRules | None) -> TaxRecord:
    """Replay a backtest's trade log through a lot book.

    Parameters
    ----------
    trades:
        The run's fills (``BacktestResult.trades``), in time order.
    rules:
        The policy's ``[tax]`` rules, or None (lots consumed first in, first out; no tax).

    Returns
    -------
    TaxRecord
        Gains per calendar year, the tax (0 without rules) and the lots open at the end.
    """
    book = LotBook()
    years: dict[int, Realised] = {}
    uncovered = 0.0
    for stamp, fills in _by_bar(trades):
        now = datetime.fromisoformat(stamp).astimezone(UTC)
        book, realised, missing = apply_fills(book, fills, rules, now)
        years[now.year] = years.get(now.year, Realised()) + realised
        uncovered += missing
    tax = 0.0
    if rules is not None:
        tax = sum(rules.tax(r.short_gain, r.long_gain) for r in years.values())
    return TaxRecord(years, tax, book, uncovered)
