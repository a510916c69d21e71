"""Quotients through one reciprocal (Markstein's correction) against the division, to the bit."""

from __future__ import annotations

import numpy as np
from numba import njit

from trimtab.backtest.kernel_divide import LARGE, SMALL, in_range, quotient


@njit(cache=False)
def _mismatches(dividends: np.ndarray, divisors: np.ndarray) -> int:
    wrong = 0
    for i in range(dividends.shape[0]):
        a, b = dividends[i], divisors[i]
        if in_range(a, b) and quotient(a, b, 1.0 / b) != a / b:
            wrong += 1
    return wrong


def test_the_quotient_through_the_reciprocal_is_the_division() -> None:
    rng = np.random.default_rng(7)
    n = 2_000_000
    wide = (rng.random(n) * 10.0 ** rng.uniform(-8, 8, n), rng.random(n) * 10.0 ** rng.uniform(-8, 8, n) + 1e-9)
    # Near-integer quotients of 53-bit integers, the hardest case for a rounded reciprocal.
    integers = rng.integers(1, 2**53, n).astype(float)
    near = (integers * rng.integers(1, 1000, n) + rng.choice([-1.0, 0.0, 1.0], n), integers)
    # Dividends and divisors whose significands are all ones or next to 1 and 2.
    edges = (np.nextafter(rng.random(n) + 1.0, 2.0), np.nextafter(rng.random(n) + 1.0, 1.0))
    signs = (-wide[0], wide[1])
    for dividends, divisors in (wide, near, edges, signs):
        assert _mismatches(dividends, divisors) == 0


def test_the_range_leaves_out_what_could_underflow_or_overflow() -> None:
    assert in_range(0.0, 3.0)
    assert in_range(-5.0, 2.0)
    assert not in_range(1.0, 0.0)
    assert not in_range(SMALL / 2.0, 1.0)
    assert not in_range(1.0, LARGE * 2.0)
    assert not in_range(float("nan"), 1.0)
    assert not in_range(1.0, float("inf"))
