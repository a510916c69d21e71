"""Invariants of the policy layer over generated inputs (hypothesis, modest example counts)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.policy.bands import Band, adaptive_half_width, class_bands
from trimtab.policy.config import AdaptiveConfig, Policy
from trimtab.policy.targets import CppiTargets, TargetContext, build_target_model
from trimtab.policy.triggers import ThresholdTrigger, TriggerContext
from trimtab.valuation import Valuation

ValuationFactory = Callable[..., Valuation]
PolicyFactory = Callable[..., Policy]
T0 = datetime(2026, 11, 21, tzinfo=UTC)
FAST = settings(max_examples=60, deadline=None)
weight = st.floats(min_value=-0.5, max_value=1.5, allow_nan=False)
CLASS_NAMES = ("BTC", "ETH", "ALTS", "STABLE")

STRATEGIES: list[dict[str, Any] | None] = [
    None,
    {"kind": "core-satellite", "core": ["BTC", "ETH"], "satellite": ["ALTS"], "index_hedge": "BTC/USDT:USDT"},
    {"kind": "beta-neutral", "long": "ALTS", "short": "BTC"},
    {"kind": "cppi", "multiplier": 4, "floor": 0.7, "ratchet": True},
    {"kind": "delta-target", "deltas": {"BTC": 0.1, "ETH": -0.2}},
]


@FAST
@given(
    strategy=st.sampled_from(STRATEGIES),
    weights=st.tuples(weight, weight, weight),
    equity=st.floats(min_value=1.0, max_value=1e9),
    peak=st.none() | st.floats(min_value=1.0, max_value=1e9),
    beta=st.none() | st.floats(min_value=0.1, max_value=3.0),
)
def test_every_model_targets_every_class_and_sums_to_one(
    make_policy: PolicyFactory,
    valuation_of: ValuationFactory,
    strategy: dict[str, Any] | None,
    weights: tuple[float, float, float],
    equity: float,
    peak: float | None,
    beta: float | None,
) -> None:
    named = dict(zip(CLASS_NAMES[:3], weights, strict=True))
    named["STABLE"] = 1.0 - sum(weights)
    policy = make_policy() if strategy is None else make_policy(strategy=strategy)
    context = TargetContext(peak_equity=peak, betas={} if beta is None else {"ALTS": beta})
    result = build_target_model(policy).targets(valuation_of(named, equity=equity), context)
    assert list(result.targets) == list(CLASS_NAMES)
    assert abs(sum(result.targets.values()) - 1.0) < 1e-9
    assert set(result.instruments) <= set(CLASS_NAMES)
    assert set(result.instruments.values()) <= {"spot", "perp"}


@FAST
@given(
    equity_low=st.floats(min_value=1.0, max_value=1e7),
    rise=st.floats(min_value=0.0, max_value=1e7),
    reference=st.floats(min_value=1.0, max_value=1e7),
)
def test_cppi_risky_weight_grows_with_equity_and_respects_bounds(
    make_policy: PolicyFactory, valuation_of: ValuationFactory, equity_low: float, rise: float, reference: float
) -> None:
    policy = make_policy(strategy={"kind": "cppi", "multiplier": 5, "floor": 0.8, "risky": ["BTC"]})
    model = build_target_model(policy)
    assert isinstance(model, CppiTargets)
    weights = {"BTC": 0.4, "ETH": 0.3, "ALTS": 0.15, "STABLE": 0.15}
    context = TargetContext(peak_equity=reference)
    low = model.targets(valuation_of(weights, equity=equity_low), context).targets["BTC"]
    high = model.targets(valuation_of(weights, equity=equity_low + rise), context).targets["BTC"]
    # risky exposure m x (E - floor) grows with E; as a weight it grows too, because the floor is fixed
    assert high >= low - 1e-12
    assert 0.0 <= low <= 3.0 + 1e-12  # the default max_leverage
    if equity_low <= 0.8 * reference:
        assert low == 0.0


@FAST
@given(
    fixed=st.floats(min_value=0.001, max_value=0.5),
    vol=st.floats(min_value=0.0, max_value=5.0),
    reference=st.floats(min_value=0.05, max_value=2.0),
    low=st.floats(min_value=0.001, max_value=0.1),
    span=st.floats(min_value=0.0, max_value=0.5),
)
def test_adaptive_half_width_stays_within_its_clips(
    fixed: float, vol: float, reference: float, low: float, span: float
) -> None:
    adaptive = AdaptiveConfig(reference_vol=reference, min_band=low, max_band=min(low + span, 0.99))
    half = adaptive_half_width(fixed, vol, adaptive)
    assert adaptive.min_band <= half <= adaptive.max_band


@FAST
@given(target=st.floats(min_value=-1.0, max_value=1.0), half=st.floats(0.0, 0.5), weight=weight)
def test_breached_is_the_complement_of_contains(target: float, half: float, weight: float) -> None:
    band = Band(target, half)
    assert band.breached(weight) is (not band.contains(weight))


@FAST
@given(weights=st.tuples(weight, weight, weight))
def test_threshold_fires_exactly_when_some_class_is_out(
    make_policy: PolicyFactory, valuation_of: ValuationFactory, weights: tuple[float, float, float]
) -> None:
    named = dict(zip(CLASS_NAMES[:3], weights, strict=True))
    named["STABLE"] = 1.0 - sum(weights)
    policy = make_policy()
    targets = build_target_model(policy).targets(valuation_of(named), TargetContext()).targets
    bands = class_bands(policy.asset_classes(), targets, None, {})
    decision = ThresholdTrigger().check(valuation_of(named), bands, TriggerContext(T0))
    expected = tuple(n for n in CLASS_NAMES if abs(named[n] - bands[n].target) > bands[n].half_width)
    assert decision.breached == expected
    assert decision.fired is bool(expected)
