"""Margin conventions: the maintenance rate and the liquidation price of an isolated position.

An isolated position of size ``q`` entered at ``E`` with leverage ``L`` posts ``q E / L`` of margin.
It is liquidated when that margin plus its unrealised PnL falls to the maintenance margin, a fraction
``m`` of its notional at the price ``P``:

* linear, long:  ``E/L + (P - E) = m P``   so  ``P = E (1 - 1/L) / (1 - m)``
* linear, short: ``E/L + (E - P) = m P``   so  ``P = E (1 + 1/L) / (1 + m)``

An inverse position (contracts worth ``N`` quote units, margined and settled in the coin) posts
``N / (E L)`` coins and earns ``N (1/E - 1/P)`` coins when long; its maintenance margin is ``m N / P`` coins:

* inverse, long:  ``P = E (1 + m) / (1 + 1/L)``
* inverse, short: ``P = E (1 - m) / (1 - 1/L)``   (none at ``L <= 1``: a 1x short inverse is fully hedged)

These ignore the venue's maintenance amount (a per-tier deduction) and fees, so a real venue
liquidates a little later than this; the figure is meant as a conservative warning level.
"""

from __future__ import annotations

import math

MAINTENANCE_MARGIN_RATE = 0.005
"""Maintenance margin as a fraction of notional (Binance USD-M's lowest tier for majors is 0.4 %)."""


def liquidation_price(
    entry: float,
    leverage: float,
    long: bool,
    rate: float = MAINTENANCE_MARGIN_RATE,
    inverse: bool = False,
) -> float:
    """Liquidation price of an isolated position, in the instrument's quote currency.

    Parameters
    ----------
    entry : float
        The position's entry price.
    leverage : float
        Its leverage (initial margin = notional / leverage); positive.
    long : bool
        True for a long position, False for a short one.
    rate : float
        The maintenance margin rate ``m``, a fraction of notional.
    inverse : bool
        True for an inverse (coin-margined) instrument.

    Returns
    -------
    float
        The price at which the position is liquidated: 0.0 when a long cannot be (a 1x linear long),
        ``math.inf`` when a short cannot be (a 1x inverse short).
    """
    if inverse:
        if long:
            return entry * (1.0 + rate) / (1.0 + 1.0 / leverage)
        denominator = 1.0 - 1.0 / leverage
        return entry * (1.0 - rate) / denominator if denominator > 0.0 else math.inf
    if long:
        return max(entry * (1.0 - 1.0 / leverage) / (1.0 - rate), 0.0)
    return entry * (1.0 + 1.0 / leverage) / (1.0 + rate)


def liquidation_distance(mark: float, liquidation: float, long: bool) -> float:
    """How far ``mark`` may move against the position before ``liquidation``, as a fraction of ``mark``.

    Returns 1.0 when the position cannot be liquidated (a long at price 0, a short at infinity) and
    0.0 when the mark has already reached the liquidation price.
    """
    if (long and liquidation <= 0.0) or (not long and math.isinf(liquidation)):
        return 1.0
    gap = mark - liquidation if long else liquidation - mark
    return gap / mark if gap > 0.0 else 0.0
