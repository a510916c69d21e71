"""Funding settlements at their own stamps: the interval in force and the settlements between two moments."""

from __future__ import annotations

import numpy as np

from trimtab.feed.history import FundingSeries

HOUR = 3600 * 1_000_000_000


def _series(hours: list[int]) -> FundingSeries:
    return FundingSeries(np.array([h * HOUR for h in hours], dtype=np.int64), np.arange(len(hours)) * 1e-5)


def test_a_symbol_that_moves_from_8h_to_4h_is_quoted_at_the_interval_of_its_last_settlement() -> None:
    series = _series([0, 8, 16, 24, 28, 32])
    assert series.interval_hours(-5 * HOUR) == 8.0  # before the second stamp: the first spacing
    assert series.interval_hours(20 * HOUR) == 8.0
    assert series.interval_hours(24 * HOUR) == 8.0  # the 24:00 settlement closed an 8-hour period
    assert series.interval_hours(28 * HOUR) == 4.0
    assert series.interval_hours(100 * HOUR) == 4.0


def test_settlements_between_two_moments_exclude_the_first_and_include_the_last() -> None:
    series = _series([0, 8, 16, 24, 28, 32])
    assert series.settled_between(8 * HOUR, 28 * HOUR) == (2, 5)  # 16, 24, 28
    assert series.settled_between(29 * HOUR, 31 * HOUR) == (5, 5)
    assert series.last_at(27 * HOUR) == 3 and series.last_at(-1) == -1


def test_one_settlement_alone_says_nothing_of_the_interval() -> None:
    assert _series([5]).interval_hours(6 * HOUR) == 8.0
    assert _series([]).typical_spacing_seconds() == 0
    assert _series([0, 1, 2, 10]).typical_spacing_seconds() == 3600
