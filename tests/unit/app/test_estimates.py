"""Volatility and beta estimated from a run's own price history (the journal's snapshots)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from trimtab.app.estimates import (
    Estimates,
    FallbackLog,
    HistoryEstimator,
    PriceHistory,
    beta_estimate,
    volatility_estimates,
)
from trimtab.policy.bands import realised_volatility
from trimtab.policy.config import BetaNeutralStrategy, Policy
from trimtab.policy.targets.beta_neutral import estimate_beta

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _policy(strategy: dict[str, object] | None = None, adaptive: bool = True) -> Policy:
    document: dict[str, object] = {
        "base_currency": "USDT",
        "class": [
            {"name": "BTC", "assets": ["BTC"], "target": 0.4, "band": 0.05, "hedge": "BTC/USDT:USDT"},
            {"name": "ALTS", "assets": ["ETH", "SOL"], "target": 0.3, "band": 0.05, "weights": {"ETH": 3, "SOL": 1}},
            {"name": "CASH", "assets": ["USDT"], "target": 0.3, "band": 0.05, "cash": True},
        ],
    }
    if adaptive:
        document["trigger"] = {"kind": "threshold", "adaptive": {"lookback": "1d", "reference_vol": 0.6}}
    if strategy is not None:
        document["strategy"] = strategy
    return Policy.model_validate(document)


def _walk(n: int, seed: int) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    btc = 50_000.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    eth = 3_000.0 * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    sol = 150.0 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    return {"BTC": btc.tolist(), "ETH": eth.tolist(), "SOL": sol.tolist()}


def _history(prices: dict[str, list[float]], end: datetime = NOW) -> PriceHistory:
    history = PriceHistory()
    n = len(prices["BTC"])
    for i in range(n):
        history.add(end - (n - 1 - i) * HOUR, {asset: series[i] for asset, series in prices.items()})
    return history


def test_the_volatility_of_hourly_prices_is_realised_volatility_over_the_lookback_at_8760_periods() -> None:
    prices = _walk(60, seed=1)
    found, reasons = volatility_estimates(_history(prices), ["BTC", "ETH"], timedelta(days=1), NOW)
    assert reasons == []
    # A one-day lookback holds the last 25 hourly closes (both ends included).
    assert found["BTC"] == pytest.approx(realised_volatility(prices["BTC"][-25:], 8760.0), rel=1e-12)
    assert found["ETH"] == pytest.approx(realised_volatility(prices["ETH"][-25:], 8760.0), rel=1e-12)
    assert 0.3 < found["BTC"] < 1.3  # 1 % an hour is about 94 % a year


def test_too_little_history_gives_no_estimate_and_says_how_much_is_needed() -> None:
    prices = _walk(12, seed=2)  # 11 hours: less than half the one-day lookback
    found, reasons = volatility_estimates(_history(prices), ["BTC"], timedelta(days=1), NOW)
    assert found == {}
    assert reasons and "12 price(s) spanning 11.0 h" in reasons[0] and "12.0 h" in reasons[0]
    enough = _walk(13, seed=2)  # 12 hours: exactly half
    assert set(volatility_estimates(_history(enough), ["BTC"], timedelta(days=1), NOW)[0]) == {"BTC"}


def test_the_same_time_twice_keeps_one_row_and_rows_may_come_out_of_order() -> None:
    history = PriceHistory()
    history.add(NOW, {"BTC": 1.0})
    history.add(NOW - HOUR, {"BTC": 2.0, "ETH": float("nan")})
    history.add(NOW, {"BTC": 3.0})  # the snapshot after a cycle's trades: same time, same prices
    times, rows = history.window(NOW - 2 * HOUR, NOW)
    assert times == [NOW - HOUR, NOW] and rows == [{"BTC": 2.0}, {"BTC": 3.0}]
    history.forget_before(NOW)
    assert len(history) == 1


def test_the_beta_of_a_class_index_on_the_short_leg_matches_ols_on_the_index_returns() -> None:
    prices = _walk(100, seed=3)
    strategy = BetaNeutralStrategy(kind="beta-neutral", long="ALTS", short="BTC", lookback="2d")
    policy = _policy({"kind": "beta-neutral", "long": "ALTS", "short": "BTC", "lookback": "2d"})
    betas, reason = beta_estimate(_history(prices), strategy, policy.asset_classes(), "USDT", NOW)
    assert reason is None
    window = {asset: np.array(series[-49:]) for asset, series in prices.items()}
    alts = 0.75 * window["ETH"] / window["ETH"][0] + 0.25 * window["SOL"] / window["SOL"][0]
    btc = window["BTC"] / window["BTC"][0]
    expected = estimate_beta((np.diff(alts) / alts[:-1]).tolist(), (np.diff(btc) / btc[:-1]).tolist())
    assert betas == {"ALTS": pytest.approx(expected, rel=1e-12)}


def test_a_leg_that_moves_twice_as_much_has_a_beta_of_two() -> None:
    rng = np.random.default_rng(4)
    short_returns = rng.normal(0, 0.01, 40)
    btc = 50_000.0 * np.cumprod(np.concatenate(([1.0], 1 + short_returns)))
    eth = 3_000.0 * np.cumprod(np.concatenate(([1.0], 1 + 2 * short_returns)))
    history = _history({"BTC": btc.tolist(), "ETH": eth.tolist(), "SOL": (eth / 20).tolist()})
    strategy = BetaNeutralStrategy(kind="beta-neutral", long="ALTS", short="BTC", lookback="1d")
    betas, _ = beta_estimate(history, strategy, _policy().asset_classes(), "USDT", NOW)
    assert betas["ALTS"] == pytest.approx(2.0, rel=1e-9)


def test_the_estimator_adds_each_cycle_and_reports_why_it_falls_back() -> None:
    policy = _policy({"kind": "beta-neutral", "long": "ALTS", "short": "BTC", "lookback": "1d"})
    estimator = HistoryEstimator(policy)
    assert estimator.horizon == timedelta(days=1) and estimator.beta_strategy is not None
    prices = _walk(30, seed=5)
    first = estimator.estimate(NOW - 29 * HOUR, {a: s[0] for a, s in prices.items()})
    assert first.volatility == {} and first.betas == {}
    assert set(first.missing) == {"volatility", "beta"}
    for i in range(1, 30):
        estimates = estimator.estimate(NOW - (29 - i) * HOUR, {a: s[i] for a, s in prices.items()})
    assert estimates.missing == {}
    assert estimates.volatility is not None and set(estimates.volatility) == {"BTC", "ETH", "SOL"}
    assert estimates.volatility["SOL"] == pytest.approx(realised_volatility(prices["SOL"][-25:], 8760.0))
    assert math.isfinite(estimates.betas["ALTS"])
    assert len(estimator.history) == 25  # older prices are dropped


def test_prices_the_cycle_does_not_trust_are_not_recorded() -> None:
    estimator = HistoryEstimator(_policy())
    estimator.estimate(NOW - HOUR, {"BTC": 50_000.0})
    estimator.estimate(NOW, {"BTC": 6_500.0}, record=False)  # a paused cycle's outlier
    assert len(estimator.history) == 1


def test_a_policy_without_adaptive_bands_or_an_estimated_beta_needs_nothing() -> None:
    fixed_beta = _policy({"kind": "beta-neutral", "long": "ALTS", "short": "BTC", "beta": 0.8}, adaptive=False)
    estimator = HistoryEstimator(fixed_beta)
    assert not estimator.needed
    assert estimator.estimate(NOW, {"BTC": 1.0}).volatility is None
    assert len(estimator.history) == 0


def test_the_fallback_is_reported_when_it_starts_and_when_the_estimate_takes_over_not_in_between() -> None:
    log = FallbackLog()
    short = Estimates(volatility={}, missing={"volatility": "2 price(s) spanning 1.0 h", "beta": "too short"})
    assert log.changes(short, ["volatility"]) == [
        "adaptive bands fall back to the fixed bands: 2 price(s) spanning 1.0 h"
    ]
    assert log.changes(short, ["volatility"]) == []
    assert log.changes(short, ["beta"]) == ["no beta estimate yet (beta 1.0 assumed): too short"]
    ready = Estimates(volatility={"BTC": 0.5}, betas={"ALTS": 1.2})
    assert log.changes(ready, ["volatility", "beta"]) == [
        "adaptive bands use realised volatility from the run's price history",
        "the beta is estimated from the run's price history",
    ]
    assert log.changes(ready, ["volatility", "beta"]) == []
