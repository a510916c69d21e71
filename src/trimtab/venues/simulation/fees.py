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

    def fee(self, notional: float, liquidity: Liquidity = Liquidity.TAKER) -> float:
        """The fee of one fill, in the notional's currency (negative for a maker rebate)."""
        rate = self.taker if liquidity is Liquidity.TAKER else self.maker
        return rate * abs(notional)
