"""How long a class's hedges are held, weighted by notional: a few numbers per hedge symbol.

The measured holding time of the hedges on one symbol is

    H = (time-integral of the hedge's entry notional) / (entry notional opened),

summed over the session's whole life, with the open hedge counted up to now. The **entry notional** of a
position is what opening it was worth: ``|amount| x entry_price`` for a linear future or perpetual (the
venue's average entry price), ``|amount|`` contracts of a fixed face value for an inverse one, ``|amount|``
units for an option (its premium is not the exposure it hedges).

Read as pieces: every increase of a position opens a piece worth its notional at its fill price, and every
reduction by a share ``f`` of the amount retires ``f`` of every open piece (the venue's average entry price
stays, so the entry notional falls by ``f``). ``H`` is then the notional-weighted mean of the pieces' lives,
``sum(notional x days) / sum(notional)`` (the integral of what is open over time is the sum of what each piece
contributed while open: Little's law, ``L = lambda W``). When the pieces were opened at one price, which of them a
reduction is said to retire does not change ``H``; a position built at several prices weighs its pieces by what
they cost, not by their amount.

Why this weighting for hedges that are cut or topped up between cycles: funding is paid each day on the
notional open that day, and the integral weighs each day by exactly that. A hedge cut to a tenth after a week
and kept a year more is held ``(7 + 365 / 10)`` = 43.5 days by notional: it paid a week's funding on all of it
and a year's on a tenth. Its whole life at its opening notional (372 days) would forecast more than eight times
the funding it paid; its first week alone would miss the year. So:

* a hedge opened at ``N``, halved after ``d1`` days and closed after ``d2``: ``(N d1 + N/2 (d2 - d1)) / N =
  (d1 + d2) / 2``, the mean of its two halves' lives;
* a tiny hedge held 300 days and one a hundred times larger held 2 days: ``(300 + 100 x 2) / 101 = 4.95``
  days, where a plain mean of the hedges says 151;
* a hedge topped up by ``N`` after ``d1`` days and closed after ``d2``: ``(N d2 + N (d2 - d1)) / 2N``.

The weights are notionals at the prices the pieces were opened at, not at today's mark: a hedge whose price
doubled is not held any longer for it. Open hedges count their age so far, so ``H`` is a lower bound while
they are open. Changes are seen at the cycles' closes, so a position reduced and topped up again within one
cycle counts as its net change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from trimtab.domain.instruments import Instrument, InstrumentKind

DAY_SECONDS = 86_400.0


class HeldPosition(Protocol):
    """A derivative position as a venue or the simulated account holds it."""

    @property
    def instrument(self) -> Instrument: ...

    @property
    def amount(self) -> float: ...

    @property
    def entry_price(self) -> float: ...


def entry_notional(position: HeldPosition) -> float:
    """What opening ``position`` was worth (see the module); ``|amount|`` when it has no usable entry price."""
    instrument, amount = position.instrument, abs(position.amount)
    if instrument.is_inverse or instrument.kind is InstrumentKind.OPTION:
        return amount
    price = position.entry_price
    return amount * price if price > 0.0 and math.isfinite(price) else amount


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """The holding record of one hedge symbol.

    ``opened``
        The entry notional opened so far (every increase, the first opening included).
    ``notional_days``
        The time-integral of the entry notional held, in notional x days, up to ``since``.
    ``since``
        When the position last changed (None for a record that has seen nothing yet).
    ``amount``, ``size``
        The signed amount held since then and its entry notional.

    A record carried over from a state that kept no sizes has ``opened`` 0 and the time its hedge was opened as
    ``since``: the size first seen is taken as held since then.
    """

    opened: float = 0.0
    notional_days: float = 0.0
    since: datetime | None = None
    amount: float = 0.0
    size: float = 0.0

    def hold_days(self, now: datetime) -> float | None:
        """The notional-weighted holding time up to ``now`` (None before any opening)."""
        if self.opened <= 0.0:
            return None
        return (self.notional_days + self.size * _days(self.since, now)) / self.opened

    def moved(self, amount: float, size: float, now: datetime) -> HoldRecord:
        """The record after the position became ``amount`` (signed) of entry notional ``size`` at ``now``."""
        elapsed = _days(self.since, now)
        if self.opened <= 0.0:  # nothing seen opened: a first opening, or a hedge carried over of unknown size
            return HoldRecord(size, size * elapsed, now, amount, size)
        integral = self.notional_days + self.size * elapsed
        if amount * self.amount <= 0.0:  # opened again, or turned to the other side: the old one closed
            added = size
        else:
            added = max(size - self.size, 0.0)
        return HoldRecord(self.opened + added, integral, now, amount, size)

    def to_json(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "notional_days": self.notional_days,
            "since": None if self.since is None else self.since.isoformat(),
            "amount": self.amount,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> HoldRecord:
        since = document.get("since")
        return cls(
            _float(document.get("opened")),
            _float(document.get("notional_days")),
            datetime.fromisoformat(since) if isinstance(since, str) and since else None,
            _float(document.get("amount")),
            _float(document.get("size")),
        )


def _days(since: datetime | None, now: datetime) -> float:
    return 0.0 if since is None else (now - since).total_seconds() / DAY_SECONDS


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
