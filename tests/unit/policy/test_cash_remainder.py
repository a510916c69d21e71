"""The cash class's target is the remainder, and exactly the figure the user wrote when nothing moved."""

from __future__ import annotations

import pytest

from trimtab.domain.classes import AssetClass
from trimtab.policy.targets import with_cash_remainder


def _classes(targets: dict[str, float], cash: str) -> list[AssetClass]:
    return [
        AssetClass(name=name, assets=(name,), target=target, weights={name: 1.0}, band=0.03, cash=name == cash)
        for name, target in targets.items()
    ]


def test_the_policy_targets_give_the_cash_target_as_written() -> None:
    # 1 - (0.4 + 0.3 + 0.15) is 0.15000000000000002 in floating point.
    classes = _classes({"BTC": 0.4, "ETH": 0.3, "ALTS": 0.15, "STABLE": 0.15}, cash="STABLE")
    assert 1.0 - (0.4 + 0.3 + 0.15) != 0.15
    assert with_cash_remainder(classes, {})["STABLE"] == 0.15


def test_a_model_that_moves_a_target_gets_the_true_remainder() -> None:
    classes = _classes({"BTC": 0.5, "STABLE": 0.5}, cash="STABLE")
    targets = with_cash_remainder(classes, {"BTC": 0.62})
    assert targets == {"BTC": 0.62, "STABLE": pytest.approx(0.38, abs=1e-15)}
    assert targets["BTC"] + targets["STABLE"] == pytest.approx(1.0, abs=1e-15)
