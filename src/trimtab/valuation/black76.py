"""Black-76 prices and greeks for options on a forward, with zero rates (the contract's convention).

With the rate at zero the forward is the underlying's price, so a delta is the sensitivity of the
option's value to the underlying's price.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from trimtab.domain.instruments import OptionType

_SQRT_2PI = math.sqrt(2.0 * math.pi)


class Greeks(NamedTuple):
    """Per unit of the underlying: value (premium), delta, gamma, vega (per 1.00 of vol), theta per day.

    ``gamma`` is the change of delta per 1 unit of the forward's price; ``theta_per_day`` the change of
    value per calendar day (negative for a long option). A named tuple: cheap to build in a hot loop.
    """

    value: float
    delta: float
    gamma: float
    vega: float
    theta_per_day: float


_SQRT_2 = math.sqrt(2.0)


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / _SQRT_2))


def _pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / _SQRT_2PI


def black76(forward: float, strike: float, years: float, vol: float, option_type: OptionType) -> Greeks:
    """Black-76 value and greeks of one option on one unit of the underlying.

    Parameters
    ----------
    forward : float
        The underlying's price (rates are zero, so forward = spot); must be positive.
    strike : float
        The strike, in the same currency; must be positive.
    years : float
        Time to expiry in years of 365 days; 0 or less means expired (intrinsic value, step delta).
    vol : float
        Annualised implied volatility (0.55 = 55 %); 0 or less gives the intrinsic value.
    option_type : OptionType
        Call or put.

    Returns
    -------
    Greeks
        Value, delta, gamma, vega and theta (per calendar day), all per unit of the underlying.
    """
    call = option_type is OptionType.CALL
    if years <= 0.0 or vol <= 0.0:
        intrinsic = max(forward - strike, 0.0) if call else max(strike - forward, 0.0)
        if call:
            delta = 1.0 if forward > strike else 0.0
        else:
            delta = -1.0 if forward < strike else 0.0
        return Greeks(intrinsic, delta, 0.0, 0.0, 0.0)
    sqrt_t = math.sqrt(years)
    sigma_t = vol * sqrt_t
    d1 = (math.log(forward / strike) + 0.5 * vol * vol * years) / sigma_t
    d2 = d1 - sigma_t
    pdf_d1 = _pdf(d1)
    if call:
        value = forward * _cdf(d1) - strike * _cdf(d2)
        delta = _cdf(d1)
    else:
        value = strike * _cdf(-d2) - forward * _cdf(-d1)
        delta = _cdf(d1) - 1.0
    gamma = pdf_d1 / (forward * sigma_t)
    vega = forward * pdf_d1 * sqrt_t
    theta_per_year = -forward * pdf_d1 * vol / (2.0 * sqrt_t)
    return Greeks(value, delta, gamma, vega, theta_per_year / 365.0)
