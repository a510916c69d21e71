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
from collections.abc import Sequence

from trimtab.domain.market import MarginTier

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


# ---------------------------------------------------------------------------------------------------------
# Tiered maintenance margin (the account model of docs/valuation.md)


def tier_at(notional: float, tiers: Sequence[MarginTier]) -> MarginTier | None:
    """The tier of a position of ``notional`` (quote currency, absolute): the last whose floor it reaches.

    Returns None without tiers (the flat :data:`MAINTENANCE_MARGIN_RATE` applies).
    """
    found: MarginTier | None = None
    for tier in tiers:
        if notional >= tier.floor or found is None:
            found = tier
        else:
            break
    return found


def maintenance_margin(notional: float, tiers: Sequence[MarginTier] = ()) -> float:
    """``|notional| x rate - amount`` of the notional's tier; ``|notional| x 0.5 %`` without tiers.

    ``notional`` is in the quote currency (the tiers' currency); so is the result.
    """
    size = abs(notional)
    tier = tier_at(size, tiers)
    if tier is None:
        return size * MAINTENANCE_MARGIN_RATE
    return max(size * tier.rate - tier.amount, 0.0)


def max_leverage_at(notional: float, tiers: Sequence[MarginTier] = ()) -> float:
    """The highest leverage the notional's tier allows (infinite without tiers)."""
    tier = tier_at(abs(notional), tiers)
    return tier.max_leverage if tier is not None else math.inf


def notional_cap(leverage: float, tiers: Sequence[MarginTier] = ()) -> float:
    """The largest notional (quote currency) a position at ``leverage`` may reach under the tiers.

    That is the floor of the first tier whose ``max_leverage`` is below ``leverage`` (infinite when every
    tier allows it); 0 when even the first tier does not.
    """
    for tier in tiers:
        if tier.max_leverage < leverage * (1.0 - 1e-12):
            return tier.floor
    return math.inf


def _tier_bounds(tiers: Sequence[MarginTier]) -> list[tuple[float, float, float, float]]:
    """``(floor, cap, rate, amount)`` per tier; without tiers one flat tier from 0 to infinity."""
    if not tiers:
        return [(0.0, math.inf, MAINTENANCE_MARGIN_RATE, 0.0)]
    out = []
    for index, tier in enumerate(tiers):
        cap = tiers[index + 1].floor if index + 1 < len(tiers) else math.inf
        out.append((0.0 if index == 0 else tier.floor, cap, tier.rate, tier.amount))
    return out


def linear_liquidation_price(
    amount: float, entry: float, cushion: float, tiers: Sequence[MarginTier] = ()
) -> float | None:
    """The price at which a linear position's ``cushion`` plus its PnL since ``entry`` equals its maintenance.

    Solves ``cushion + amount x (P - entry) = |amount| x P x rate - amount_k`` with the rate and the
    maintenance amount of the tier that ``|amount| x P`` falls in (all in the quote currency). For an
    isolated position ``cushion`` is its margin; for a cross one it is the account's collateral less the
    other positions' maintenance margin (valued at ``entry`` = the mark, so the PnL term starts at 0).

    Returns
    -------
    float or None
        The price, or None when none exists (a long whose cushion covers a fall to zero).
    """
    size = abs(amount)
    if size == 0.0:
        return None
    for floor, cap, rate, deduction in _tier_bounds(tiers):
        denominator = amount - size * rate
        price = (amount * entry - cushion - deduction) / denominator
        if price <= 0.0:
            continue
        notional = size * price
        if floor * (1.0 - 1e-12) <= notional < cap * (1.0 + 1e-12):
            return price
    return None


def inverse_liquidation_price(
    contracts_value: float, entry: float, cushion_coins: float, tiers: Sequence[MarginTier] = ()
) -> float | None:
    """The price at which an inverse position's coin cushion plus its coin PnL equals its maintenance margin.

    ``contracts_value`` is the signed face value in the quote currency (contracts x contract size, negative
    when short). An inverse position is margined in the coin: its size is ``|face| / P`` coins, its tier is
    the one that size falls in (tiers in coins, as Binance's COIN-M brackets and ccxt's
    ``fetch_leverage_tiers`` give them), and its maintenance margin ``|face| / P x rate - amount`` coins.
    Solving ``cushion + face x (1/entry - 1/P) = |face| / P x rate - amount`` gives Binance's COIN-M formula
    ``P = (|face| x rate + face) / (cushion + amount + face / entry)``, with the tier at that price.

    Returns
    -------
    float or None
        The price; ``math.inf`` for a long already past it; None when none exists (a short whose cushion
        covers any rise: 1x or less).
    """
    face = contracts_value
    size = abs(face)
    if size == 0.0:
        return None
    solved: float | None = None
    for floor, cap, rate, deduction in _tier_bounds(tiers):
        denominator = cushion_coins + deduction + face / entry
        if denominator == 0.0:
            continue
        price = (size * rate + face) / denominator
        if price <= 0.0:
            continue
        coins = size / price
        if floor * (1.0 - 1e-12) <= coins < cap * (1.0 + 1e-12):
            return price
        solved = price if solved is None else solved
    if solved is not None:
        return solved  # float rounding at a tier's edge: the first solution found
    # A long whose cushion is gone is liquidated at any price; a short that cannot lose enough never is.
    return math.inf if face > 0.0 else None
