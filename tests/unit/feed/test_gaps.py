"""Gap detection on a bar grid."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.feed.gaps import describe_gaps, find_gaps

HOUR_NS = 3600 * 1_000_000_000


def test_runs_of_missing_bars_are_counted_and_described() -> None:
    hours = np.array([0, 1, 2, 6, 7, 9], dtype=np.int64) * HOUR_NS + 1_700_000_000 * 1_000_000_000 // HOUR_NS * HOUR_NS

    gaps = find_gaps(hours, 3600)

    assert [gap.missing for gap in gaps] == [3, 1]
    lines = describe_gaps("BTC 1h", gaps, 3600)
    assert lines[0].startswith("BTC 1h: 3 missing bars ")
    assert " -> " in lines[0]
    assert lines[1].startswith("BTC 1h: 1 missing bar ")
    assert " -> " not in lines[1]


def test_a_complete_series_has_no_gaps() -> None:
    assert find_gaps(np.arange(10, dtype=np.int64) * HOUR_NS, 3600) == []
    assert find_gaps(np.array([], dtype=np.int64), 3600) == []


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=300), min_size=2, max_size=120))
def test_missing_bars_add_up_to_what_the_grid_lacks(kept: set[int]) -> None:
    hours = np.array(sorted(kept), dtype=np.int64) * HOUR_NS

    gaps = find_gaps(hours, 3600)

    span = (max(kept) - min(kept)) + 1
    assert sum(gap.missing for gap in gaps) == span - len(kept)
    assert all(gap.missing >= 1 for gap in gaps)
