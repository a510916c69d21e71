"""Risk parity (equal risk contribution) with hand-computed cases, and its place in the registry."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.errors import BadInputError
from trimtab.loaders.validation import validate
from trimtab.policy.config import Policy
from trimtab.policy.estimation import PriceWindow
from trimtab.policy.targets import RiskParityTargets, TargetContext, build_target_model, equal_risk_weights
from trimtab.valuation import Valuation

PolicyFactory = Callable[..., Policy]
ValuationFactory = Callable[..., Valuation]
NOW = datetime(2026, 11, 21, tzinfo=UTC)
DAY = timedelta(days=1)


def test_two_classes_are_weighted_by_inverse_volatility_whatever_their_correlation() -> None:
    # σ = 80 % and 40 %: w = (1/0.8, 1/0.4) / (1.25 + 2.5) = (1/3, 2/3), for any correlation.
    for rho in (-0.5, 0.0, 0.7):
        sigma = np.array([[0.64, rho * 0.32], [rho * 0.32, 0.16]])
        assert equal_risk_weights(sigma) == pytest.approx([1 / 3, 2 / 3], rel=1e-9)


def test_uncorrelated_classes_are_weighted_by_inverse_volatility() -> None:
    # σ = 20 %, 40 %, 80 %: 1/σ = 5, 2.5, 1.25 over 8.75.
    weights = equal_risk_weights(np.diag([0.04, 0.16, 0.64]))
    assert weights == pytest.approx([5 / 8.75, 2.5 / 8.75, 1.25 / 8.75], rel=1e-9)


def test_a_correlated_pair_beside_an_independent_class_by_hand() -> None:
    # Classes 1 and 2: σ = 40 %, correlation 0.5 with each other; class 3: σ = 30 %, uncorrelated.
    # By symmetry w1 = w2 = a, w3 = b; equal contributions a²σ²(1 + ρ) = b²s² give b = a σ √(1 + ρ) / s,
    # and 2a + b = 1: a = 1 / (2 + 0.4 √1.5 / 0.3) = 0.2752551, b = 0.4494897.
    s12 = 0.5 * 0.4 * 0.4
    sigma = np.array([[0.16, s12, 0.0], [s12, 0.16, 0.0], [0.0, 0.0, 0.09]])
    a = 1.0 / (2.0 + 0.4 * math.sqrt(1.5) / 0.3)
    assert equal_risk_weights(sigma) == pytest.approx([a, a, 1.0 - 2.0 * a], rel=1e-9)
    assert a == pytest.approx(0.2752551, abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    vols=st.lists(st.floats(0.05, 1.5), min_size=2, max_size=5),
    rho=st.floats(-0.15, 0.9),
)
def test_every_class_contributes_the_same_risk(vols: list[float], rho: float) -> None:
    n = len(vols)
    correlation = np.full((n, n), rho) + (1.0 - rho) * np.eye(n)
    sigma = np.outer(vols, vols) * correlation
    weights = equal_risk_weights(sigma)
    contributions = weights * (sigma @ weights)
    assert weights.sum() == pytest.approx(1.0)
    assert np.all(weights > 0)
    assert contributions == pytest.approx(np.full(n, contributions.mean()), rel=1e-7)


def test_a_covariance_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="square"):
        equal_risk_weights(np.ones((2, 3)))
    with pytest.raises(ValueError, match="positive"):
        equal_risk_weights(np.array([[0.0, 0.0], [0.0, 0.1]]))


def _window(days: int, vols: dict[str, float], seed: int = 3) -> PriceWindow:
    """Daily prices whose log returns alternate ±σ/√365 (exact sample volatility σ, no correlation noise)."""
    rng = np.random.default_rng(seed)
    times = [NOW - (days - 1 - i) * DAY for i in range(days)]
    rows: list[dict[str, float]] = [{} for _ in range(days)]
    for asset, vol in vols.items():
        steps = rng.permutation(np.resize([1.0, -1.0], days - 1)) * vol / math.sqrt(365.0)
        series = 100.0 * np.exp(np.concatenate(([0.0], np.cumsum(steps))))
        for i in range(days):
            rows[i][asset] = float(series[i])
    return PriceWindow.from_rows(times, rows, tuple(vols))


def _policy(make_policy: PolicyFactory, **strategy: Any) -> Policy:
    return make_policy(strategy={"kind": "risk-parity", "lookback": "60d", **strategy})


def test_the_model_shares_the_classes_targets_by_equal_risk(
    make_policy: PolicyFactory, valuation_of: ValuationFactory
) -> None:
    model = build_target_model(_policy(make_policy, classes=["BTC", "ETH"]))
    assert isinstance(model, RiskParityTargets)
    assert model.history == timedelta(days=60)
    window = _window(61, {"BTC": 0.8, "ETH": 0.4, "SOL": 1.0, "XRP": 1.0})
    result = model.targets(
        valuation_of({"BTC": 0.4, "ETH": 0.3, "ALTS": 0.15, "STABLE": 0.15}), TargetContext(window=window)
    )
    # BTC 40 % + ETH 30 % = 70 % shared between two classes, whatever their correlation: by inverse volatility.
    # (the estimator's covariance is of the class indices' simple returns)
    btc, eth = window.column("BTC")[1], window.column("ETH")[1]
    btc_vol, eth_vol = np.std(btc[1:] / btc[:-1] - 1, ddof=1), np.std(eth[1:] / eth[:-1] - 1, ddof=1)
    expected_btc = 0.7 * (1 / btc_vol) / (1 / btc_vol + 1 / eth_vol)
    assert result.targets["BTC"] == pytest.approx(expected_btc, rel=1e-6)
    assert result.targets["ETH"] == pytest.approx(0.7 - expected_btc, rel=1e-6)
    assert result.targets["ALTS"] == pytest.approx(0.15) and result.targets["STABLE"] == pytest.approx(0.15)
    assert result.targets["BTC"] < result.targets["ETH"]  # the more volatile class gets less
    assert result.notes[0].startswith("risk parity over 60d (70.00% shared by equal risk): BTC ")
    assert model.estimates(window) == {"covariance": None}


def test_without_enough_history_the_policy_targets_are_kept_and_the_note_says_why(
    make_policy: PolicyFactory, valuation_of: ValuationFactory
) -> None:
    model = build_target_model(_policy(make_policy))
    result = model.targets(valuation_of({"BTC": 0.4, "ETH": 0.3, "ALTS": 0.15, "STABLE": 0.15}), TargetContext())
    assert result.targets == pytest.approx({"BTC": 0.4, "ETH": 0.3, "ALTS": 0.15, "STABLE": 0.15})
    assert result.notes == ("risk parity: no covariance estimate (no price history); the policy targets are kept",)
    short = _window(10, {"BTC": 0.8, "ETH": 0.4, "SOL": 1.0, "XRP": 1.0})
    assert "half the 60.0 d lookback" in str(model.estimates(short)["covariance"])


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ({"classes": ["BTC"]}, "strategy.classes: list at least two different classes"),
        ({"classes": ["BTC", "NOPE"]}, "strategy.classes: 'NOPE' is not a class of this policy"),
        ({"classes": ["BTC", "STABLE"]}, "strategy.classes: 'STABLE' is the cash class"),
        ({"lookback": "soon"}, "strategy.risk-parity.lookback"),
    ],
)
def test_bad_risk_parity_settings_name_the_field(
    make_policy: PolicyFactory, strategy: dict[str, Any], message: str
) -> None:
    with pytest.raises(Exception, match=message.replace("(", r"\(")):
        _policy(make_policy, **strategy)


def test_the_policy_file_key_is_validated_like_any_other(tmp_path: Any) -> None:
    document = {
        "base_currency": "USDT",
        "class": [
            {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05},
            {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
        ],
        "strategy": {"kind": "risk-parity", "lookbak": "30d"},
    }
    with pytest.raises(BadInputError, match="lookbak"):
        validate(Policy, document, "policy.toml")
