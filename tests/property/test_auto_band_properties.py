"""Invariants of bands from costs over random volatilities, targets, costs and budgets.

* before clipping, the RMS over the auto classes of h / sqrt 3 is the tracking budget, so when no width is
  clipped it holds exactly;
* every width lies in [0.002, 0.25];
* widths keep the order of (c x sigma^2)^(1/3): a class whose weight is more volatile gets a wider band.
"""

from __future__ import annotations

import math
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.domain.classes import AssetClass
from trimtab.policy.bands import AutoBands, auto_half_widths

vols = st.floats(min_value=0.05, max_value=2.0, allow_nan=False)
targets = st.floats(min_value=0.02, max_value=0.6, allow_nan=False)


def auto_class(index: int, target: float) -> AssetClass:
    asset = f"A{index}"
    return AssetClass(f"C{index}", (asset,), target, {asset: 1.0}, band=0.03, band_auto=True)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(vols, targets), min_size=1, max_size=6),
    st.floats(min_value=0.0002, max_value=0.02),
    st.floats(min_value=0.002, max_value=0.08),
)
def test_auto_widths_meet_the_budget_and_keep_the_order_of_risk(
    classes: list[tuple[float, float]], cost: float, budget: float
) -> None:
    built = [auto_class(i, target) for i, (_, target) in enumerate(classes)]
    volatility = {f"A{i}": vol for i, (vol, _) in enumerate(classes)}
    widths = auto_half_widths(built, {c.name: c.target for c in built}, volatility, AutoBands(cost, budget))
    assert set(widths) == {c.name for c in built}
    assert all(0.002 <= w <= 0.25 for w in widths.values())
    if all(0.002 < w < 0.25 for w in widths.values()):
        rms = math.sqrt(sum((w / math.sqrt(3)) ** 2 for w in widths.values()) / len(widths))
        assert math.isclose(rms, budget, rel_tol=1e-9)
    risk = {c.name: (volatility[c.assets[0]] * c.target) for c in built}
    names = sorted(risk, key=risk.__getitem__)
    assert all(widths[a] <= widths[b] * (1 + 1e-12) for a, b in pairwise(names))
