"""Exchange fees: a maker rate for resting (limit) orders, a taker rate for orders that cross the book."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Liquidity(StrEnum):
    """Whether an order took liquidity (crossed the spread) or made it (rested on the book)."""

    TAKER = "taker"
    MAKER = "maker"


@dataclass(frozen=True, slots=True)
class FeeModel:
    """Fees proportional to the traded notional.

    ``fee = rate x |notional|`` with ``rate`` = ``taker`` or ``maker``; a negative maker rate is a rebate.
    """

    taker: float = 0.0010
    maker: float = 0.0002
    by_kind: tuple[tuple[str, float, float], ...] = ()
    """``(instrument kind, taker, maker)`` for the kinds whose fees differ (``[costs.fees]``)."""

    def fee(self, notional: float, liquidity: Liquidity = Liquidity.TAKER, kind: str = "") -> float:
        """The fee of one fill on an instrument ``kind``, in the notional's currency (negative for a rebate)."""
        taker, maker = self.taker, self.maker
        for name, kind_taker, kind_maker in self.by_kind:
            if name == kind:
                taker, maker = kind_taker, kind_maker
        rate = taker if liquidity is Liquidity.TAKER else maker
        return rate * abs(notional)
