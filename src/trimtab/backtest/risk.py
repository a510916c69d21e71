"""Per-bar leverage and liquidation distance of an event-engine run (the account after each bar's trades).

``gross_leverage`` is the valuation's: the absolute spot value of the non-cash classes plus the absolute
delta-notional of every derivative, over equity. ``min_liquidation_distance`` is the smallest distance of
any futures or perpetual position to its liquidation price (the account model's, the price the engine
liquidates at), as a fraction of its mark; NaN at bars where no position can be liquidated.

The fast path trades spot only: nothing is borrowed and nothing can be liquidated, so its results carry
no such curves (``BacktestResult.risk`` is None) rather than a flat line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RiskCurves:
    """Gross leverage (T,) and the minimum liquidation distance (T,), NaN where nothing can be liquidated."""

    gross_leverage: FloatArray
    min_liquidation_distance: FloatArray

    @classmethod
    def empty(cls, bars: int) -> RiskCurves:
        return cls(np.zeros(bars), np.full(bars, np.nan))

    @property
    def hedged(self) -> bool:
        """True when some bar held a position that could be liquidated."""
        return bool(np.isfinite(self.min_liquidation_distance).any())

    def summary(self) -> dict[str, float | None]:
        """``max_gross_leverage`` and ``min_liquidation_distance`` (None when nothing could be liquidated)."""
        peak = float(self.gross_leverage.max()) if self.gross_leverage.size else 0.0
        closest = float(np.nanmin(self.min_liquidation_distance)) if self.hedged else None
        return {"max_gross_leverage": peak, "min_liquidation_distance": closest}


def spot_gross_leverage(weights: npt.NDArray[np.float64], cash_index: int) -> float:
    """Gross leverage of a book without derivatives: the non-cash classes' absolute weights."""
    total = float(np.abs(weights).sum())
    return total - abs(float(weights[cash_index])) if cash_index >= 0 else total
