"""Funding of perpetual swaps, paid at every settlement stamp (every 8 hours on Binance USD-M).

At a stamp with rate ``r`` (per settlement) a position of signed ``amount`` at ``mark`` pays::

    payment = r x amount x mark

so with a positive rate longs pay and shorts receive; the account's cash changes by ``-payment``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class FundingModel:
    """Funding paid at each settlement: ``rate x amount x mark`` (positive: the account pays)."""

    def payment(self, amount: float, mark: float, rate: float) -> float:
        """What a position of signed ``amount`` pays at one stamp (negative when it receives)."""
        return rate * amount * mark


def funding_stamps(stamps: npt.NDArray[np.int64], after: int, until: int) -> tuple[int, int]:
    """The index range ``[lo, hi)`` of funding stamps with ``after < stamp <= until`` (int64 ns, sorted).

    A bar closing exactly on a stamp settles that stamp with the bar; the next bar starts after it.
    """
    lo = int(np.searchsorted(stamps, after, side="right"))
    hi = int(np.searchsorted(stamps, until, side="right"))
    return lo, hi
