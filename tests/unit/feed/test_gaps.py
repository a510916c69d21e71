"""Gap detection on a bar grid."""

from __future__ import annotations

import numpy as np

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
