"""CPPI targets: floor, cushion, multiplier, ratchet and the leverage cap, computed by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trimtab.policy.config import Policy
from trimtab.policy.targets import CppiTargets, TargetContext, build_target_model
from trimtab.valuation import Valuation

ValuationFactory = Callable[..., Valuation]
PolicyFactory = Callable[..., Policy]
WEIGHTS = {"BTC": 0.4, "ETH": 0.3, "ALTS": 0.15, "STABLE": 0.15}


def _model(make_policy: PolicyFactory, **strategy: Any) -> CppiTargets:
    model = build_target_model(make_policy(strategy={"kind": "cppi", **strategy}))
    assert isinstance(model, CppiTargets)
    return model


def test_floor_at_current_equity_when_no_reference_is_known(
    make_policy: PolicyFactory, valuation_of: ValuationFactory
) -> None:
    model = _model(make_policy, multiplier=3, floor=0.8)
    result = model.targets(valuation_of(WEIGHTS, equity=100_000.0), TargetContext())
    # floor 80 000, cushion 20 000, risky 60 000 = 0.6, split 40:30:15 of 85
    assert result.targets == pytest.approx(
        {"BTC": 0.6 * 40 / 85, "ETH": 0.6 * 30 / 85, "ALTS": 0.6 * 15 / 85, "STABLE": 0.4}
    )
    assert result.notes[0] == (
        "CPPI: floor 80,000.00 (80.00% of 100,000.00), cushion 20,000.00, risky exposure 60,000.00 (60.00% of equity)"
    )


def test_ratchet_raises_the_floor_with_the_peak(make_policy: PolicyFactory, valuation_of: ValuationFactory) -> None:
    model = _model(make_policy, multiplier=3, floor=0.8, ratchet=True, risky=["BTC"])
    result = model.targets(valuation_of(WEIGHTS, equity=100_000.0), TargetContext(peak_equity=120_000.0))
    # floor 0.8 x 120 000 = 96 000, cushion 4 000, risky 12 000 = 0.12 all in BTC; others keep policy targets
    assert result.targets == pytest.approx({"BTC": 0.12, "ETH": 0.3, "ALTS": 0.15, "STABLE": 0.43})
    assert "floor 96,000.00" in result.notes[0]


def test_ratchet_takes_the_current_equity_when_it_is_a_new_peak(
    make_policy: PolicyFactory, valuation_of: ValuationFactory
) -> None:
    model = _model(make_policy, multiplier=2, floor=0.9, ratchet=True, risky=["BTC"], peak_equity=110_000.0)
    assert model.reference_equity(150_000.0, TargetContext(peak_equity=120_000.0)) == pytest.approx(150_000.0)
    result = model.targets(valuation_of(WEIGHTS, equity=150_000.0), TargetContext(peak_equity=120_000.0))
    # floor 135 000, cushion 15 000, risky 30 000 = 0.2 of equity
    assert result.targets["BTC"] == pytest.approx(0.2)


def test_without_ratchet_the_policy_reference_wins(make_policy: PolicyFactory, valuation_of: ValuationFactory) -> None:
    model = _model(make_policy, multiplier=3, floor=0.8, risky=["BTC"], peak_equity=90_000.0)
    assert model.reference_equity(100_000.0, TargetContext(peak_equity=120_000.0)) == pytest.approx(90_000.0)
    result = model.targets(valuation_of(WEIGHTS, equity=100_000.0), TargetContext(peak_equity=120_000.0))
    # floor 72 000, cushion 28 000, risky 84 000
    assert result.targets["BTC"] == pytest.approx(0.84)
    assert result.targets["STABLE"] == pytest.approx(1 - 0.84 - 0.3 - 0.15)


def test_without_ratchet_the_context_reference_is_used(
    make_policy: PolicyFactory, valuation_of: ValuationFactory
) -> None:
    model = _model(make_policy, multiplier=4, floor=0.75, risky=["BTC", "ETH"])
    result = model.targets(valuation_of(WEIGHTS, equity=90_000.0), TargetContext(peak_equity=100_000.0))
    # floor 75 000, cushion 15 000, risky 60 000 = 2/3 of equity, split 40:30
    assert result.targets["BTC"] == pytest.approx(2 / 3 * 4 / 7)
    assert result.targets["ETH"] == pytest.approx(2 / 3 * 3 / 7)


def test_below_the_floor_everything_goes_to_cash(make_policy: PolicyFactory, valuation_of: ValuationFactory) -> None:
    model = _model(make_policy, multiplier=3, floor=0.8)
    result = model.targets(valuation_of(WEIGHTS, equity=70_000.0), TargetContext(peak_equity=100_000.0))
    assert result.targets == pytest.approx({"BTC": 0.0, "ETH": 0.0, "ALTS": 0.0, "STABLE": 1.0})
    assert "cushion 0.00" in result.notes[0]


def test_risky_exposure_is_capped_at_max_leverage(make_policy: PolicyFactory, valuation_of: ValuationFactory) -> None:
    policy = make_policy(
        strategy={"kind": "cppi", "multiplier": 10, "floor": 0.5, "risky": ["BTC"]},
        rebalance={"max_leverage": 2.0},
    )
    result = build_target_model(policy).targets(valuation_of(WEIGHTS, equity=100_000.0), TargetContext())
    # 10 x 50 000 = 500 000 is cut to 2 x 100 000
    assert result.targets["BTC"] == pytest.approx(2.0)
    assert result.targets["STABLE"] == pytest.approx(1 - 2.0 - 0.3 - 0.15)
    assert "needs leverage" in result.notes[1]
