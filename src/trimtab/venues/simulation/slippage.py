"""Slippage: how far from the reference price (the bar's close or the mark) a market order fills.

Two models:

* :class:`ConstantSlippage`: a fixed fraction of notional, ``slippage_bps / 10_000`` (the policy's
  ``costs.slippage_bps``, read as the half-spread paid by a market order).
* :class:`SquareRootImpact`: the half-spread plus square-root market impact on the bar's volume::

      slippage_fraction = half_spread_bps / 10_000 + impact x sigma_bar x sqrt(|notional| / bar_volume_quote)

  capped at ``max_fraction``, where ``sigma_bar`` is the asset's volatility over one bar (annualised
  volatility x sqrt(bar length / 1 year)) and ``bar_volume_quote`` = the bar's volume in the base asset x
  its close. Because ``sigma_bar`` grows with sqrt(bar length) and the bar's volume with its length, the
  figure does not depend on the bar size. ``impact`` ~ 1 is the empirical order of the square-root law.
  A bar without volume data pays the half-spread only.

A buy fills at ``price x (1 + s)`` and a sell at ``price x (1 - s)``; the cost ``s x |notional|`` is
reported as the trade's slippage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BarConditions:
    """What the market was like during the bar in which an order fills.

    ``volume_quote`` is the bar's traded value in the quote currency (0 or NaN: unknown);
    ``sigma_bar`` the asset's volatility over one bar (NaN: unknown).
    """

    volume_quote: float = float("nan")
    sigma_bar: float = float("nan")


class SlippageModel(Protocol):
    """Slippage as a fraction of notional for one market order."""

    def fraction(self, notional: float, bar: BarConditions) -> float: ...

    @property
    def constant(self) -> bool:
        """True when the fraction never depends on the order or the bar (the fast path's condition)."""
        ...


@dataclass(frozen=True, slots=True)
class ConstantSlippage:
    """A fixed ``bps / 10_000`` of notional."""

    bps: float = 0.0

    def fraction(self, notional: float, bar: BarConditions) -> float:
        return self.bps / 10_000.0

    @property
    def constant(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class SquareRootImpact:
    """Half-spread plus square-root impact on the bar's volume (formula in the module docstring)."""

    half_spread_bps: float = 5.0
    impact: float = 1.0
    max_fraction: float = 0.05

    def fraction(self, notional: float, bar: BarConditions) -> float:
        half_spread = self.half_spread_bps / 10_000.0
        volume, sigma = bar.volume_quote, bar.sigma_bar
        if not (volume > 0.0 and math.isfinite(volume) and math.isfinite(sigma)) or notional == 0.0:
            return half_spread
        impact = self.impact * sigma * math.sqrt(abs(notional) / volume)
        return min(half_spread + impact, self.max_fraction)

    @property
    def constant(self) -> bool:
        return self.impact == 0.0
