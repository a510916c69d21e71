"""Funding of perpetual swaps, paid at every settlement stamp of the symbol (8 h, 4 h or 1 h apart).

At a stamp with rate ``r`` (per settlement) a position of signed ``amount`` at ``mark`` pays::

    payment = r x amount x mark

so with a positive rate longs pay and shorts receive; the account's cash changes by ``-payment``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FundingModel:
    """Funding paid at each settlement: ``rate x amount x mark`` (positive: the account pays)."""

    def payment(self, amount: float, mark: float, rate: float) -> float:
        """What a position of signed ``amount`` pays at one stamp (negative when it receives)."""
        return rate * amount * mark
