"""Beta-neutral targets and the OLS beta estimate."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from trimtab.policy.config import Policy
from trimtab.policy.targets import TargetContext, build_target_model, estimate_beta
from trimtab.valuation import Valuation

ValuationFactory = Callable[..., Valuation]
PolicyFactory = Callable[..., Policy]

CLASSES = [
    {"name": "ALTS", "assets": ["SOL", "XRP"], "target": 0.5, "band": 0.05},
    {"name": "BTC", "assets": ["BTC"], "target": 0.0, "band": 0.05, "hedge": "BTC/USDT:USDT"},
    {"name": "ETH", "assets": ["ETH"], "target": 0.2, "band": 0.03},
    {"name": "STABLE", "assets": ["USDT"], "target": 0.3, "band": 0.05, "cash": True},
]
WEIGHTS = {"ALTS": 0.5, "BTC": 0.0, "ETH": 0.2, "STABLE": 0.3}


def _policy(make_policy: PolicyFactory, beta: float | None = None) -> Policy:
    strategy: dict[str, object] = {"kind": "beta-neutral", "long": "ALTS", "short": "BTC"}
    if beta is not None:
        strategy["beta"] = beta
    return make_policy(CLASSES, strategy=strategy)


def test_given_beta_sizes_the_short_leg(make_policy: PolicyFactory, valuation_of: ValuationFactory) -> None:
    model = build_target_model(_policy(make_policy, beta=1.2))
    result = model.targets(valuation_of(WEIGHTS), TargetContext(betas={"ALTS": 0.5}))
    # short = -1.2 x 0.5; cash = 1 - 0.5 + 0.6 - 0.2
    assert result.targets == pytest.approx({"ALTS": 0.5, "BTC": -0.6, "ETH": 0.2, "STABLE": 0.9})
    assert result.instruments == {"BTC": "perp"}
    assert result.notes == ("BTC target -60.00 % = -beta 1.2000 (from the policy) x ALTS target 50.00 %",)


def test_estimated_beta_comes_from_the_context(make_policy: PolicyFactory, valuation_of: ValuationFactory) -> None:
    model = build_target_model(_policy(make_policy))
    result = model.targets(valuation_of(WEIGHTS), TargetContext(betas={"ALTS": 0.8}))
    assert result.targets == pytest.approx({"ALTS": 0.5, "BTC": -0.4, "ETH": 0.2, "STABLE": 0.7})
    assert "estimated from history" in result.notes[0]


def test_unknown_beta_defaults_to_one_with_a_note(make_policy: PolicyFactory, valuation_of: ValuationFactory) -> None:
    result = build_target_model(_policy(make_policy)).targets(valuation_of(WEIGHTS), TargetContext())
    assert result.targets["BTC"] == pytest.approx(-0.5)
    assert result.targets["STABLE"] == pytest.approx(0.8)
    assert result.notes[0] == "no beta for ALTS was given or estimated (no price history): beta 1.0 assumed"


def test_estimate_beta_recovers_an_exact_linear_relation() -> None:
    short = [0.01, -0.02, 0.015, 0.03, -0.01, 0.0, 0.005]
    long = [0.002 + 1.7 * r for r in short]
    assert estimate_beta(long, short) == pytest.approx(1.7)


def test_estimate_beta_on_noisy_synthetic_series() -> None:
    rng = np.random.default_rng(7)
    short = rng.normal(0.0, 0.03, 5000)
    long = 0.0005 + 1.3 * short + rng.normal(0.0, 0.02, 5000)
    # standard error of the slope is about 0.02 / (0.03 x sqrt(5000)) ~ 0.01
    assert estimate_beta(long.tolist(), short.tolist()) == pytest.approx(1.3, abs=0.04)


def test_estimate_beta_matches_numpy_least_squares() -> None:
    rng = np.random.default_rng(11)
    short = rng.normal(0.0, 0.02, 200)
    long = rng.normal(0.0, 0.02, 200) + 0.5 * short
    slope = np.polyfit(short, long, 1)[0]
    assert estimate_beta(long.tolist(), short.tolist()) == pytest.approx(slope)


@pytest.mark.parametrize(
    ("long", "short", "message"),
    [
        ([0.1, 0.2], [0.1], "same length"),
        ([0.1], [0.2], "at least two"),
        ([0.1, 0.2, 0.3], [0.05, 0.05, 0.05], "do not vary"),
        ([0.1, float("nan")], [0.1, 0.2], "finite"),
    ],
)
def test_estimate_beta_rejects_unusable_series(long: list[float], short: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        estimate_beta(long, short)
