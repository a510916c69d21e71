"""The one estimator: volatility, beta and covariance from a window of prices (checked against numpy by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.policy.bands import realised_volatility
from trimtab.policy.config import Policy
from trimtab.policy.estimation import (
    EstimateUnavailableError,
    PriceWindow,
    beta,
    covariance,
    estimate_beta,
    volatilities,
    volatility,
    volatility_ceilings,
)

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _classes() -> dict[str, object]:
    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.4, "band": 0.05},
                {
                    "name": "ALTS",
                    "assets": ["ETH", "SOL"],
                    "target": 0.3,
                    "band": 0.05,
                    "weights": {"ETH": 3, "SOL": 1},
                },
                {"name": "CASH", "assets": ["USDT"], "target": 0.3, "band": 0.05, "cash": True},
            ],
        }
    )
    return {c.name: c for c in policy.asset_classes()}


def _walk(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "BTC": 50_000.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n))),
        "ETH": 3_000.0 * np.exp(np.cumsum(rng.normal(0, 0.015, n))),
        "SOL": 150.0 * np.exp(np.cumsum(rng.normal(0, 0.02, n))),
    }


def _window(prices: dict[str, np.ndarray], end: datetime = NOW) -> PriceWindow:
    n = len(prices["BTC"])
    times = [end - (n - 1 - i) * HOUR for i in range(n)]
    rows = [{asset: float(series[i]) for asset, series in prices.items()} for i in range(n)]
    return PriceWindow.from_rows(times, rows, ("BTC", "ETH", "SOL"))


def test_the_volatility_of_hourly_prices_is_realised_volatility_over_the_lookback_at_8760_periods() -> None:
    prices = _walk(60, seed=1)
    found, reasons = volatilities(_window(prices), ["BTC", "ETH"], timedelta(days=1))
    assert reasons == []
    # A one-day lookback holds the last 25 hourly closes (both ends included).
    assert found["BTC"] == pytest.approx(realised_volatility(prices["BTC"][-25:], 8760.0), rel=1e-12)
    returns = np.diff(np.log(prices["ETH"][-25:]))
    assert found["ETH"] == pytest.approx(np.std(returns, ddof=1) * np.sqrt(8760.0), rel=1e-12)


def test_too_little_history_gives_no_estimate_and_says_how_much_is_needed() -> None:
    prices = _walk(12, seed=2)  # 11 hours: less than half the one-day lookback
    found, reasons = volatilities(_window(prices), ["BTC"], timedelta(days=1))
    assert found == {}
    assert reasons and "12 price(s) spanning 11.0 h" in reasons[0] and "12.0 h" in reasons[0]
    enough = _walk(13, seed=2)  # 12 hours: exactly half
    assert set(volatilities(_window(enough), ["BTC"], timedelta(days=1))[0]) == {"BTC"}


def test_a_missing_price_leaves_that_time_out_of_the_assets_series() -> None:
    times = [NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - HOUR, NOW]
    rows = [{"BTC": 100.0}, {"BTC": 110.0, "ETH": 10.0}, {"BTC": 99.0, "ETH": 11.0}, {"BTC": 104.0, "ETH": 10.5}]
    window = PriceWindow.from_rows(times, rows, ("BTC", "ETH"))
    expected = realised_volatility([10.0, 11.0, 10.5], 8760.0)
    assert volatility(window, "ETH", timedelta(hours=4)) == pytest.approx(expected, rel=1e-12)


def test_the_beta_of_a_class_index_on_the_short_leg_matches_ols_on_the_index_returns() -> None:
    prices = _walk(100, seed=3)
    classes = _classes()
    found = beta(_window(prices), classes["ALTS"], classes["BTC"], "USDT", timedelta(days=2))  # type: ignore[arg-type]
    last = {asset: series[-49:] for asset, series in prices.items()}
    alts = 0.75 * last["ETH"] / last["ETH"][0] + 0.25 * last["SOL"] / last["SOL"][0]
    btc = last["BTC"] / last["BTC"][0]
    long_returns, short_returns = np.diff(alts) / alts[:-1], np.diff(btc) / btc[:-1]
    expected = np.cov(long_returns, short_returns, ddof=1)[0, 1] / np.var(short_returns, ddof=1)
    assert found == pytest.approx(expected, rel=1e-12)
    assert estimate_beta(long_returns.tolist(), short_returns.tolist()) == pytest.approx(expected, rel=1e-12)


def test_a_leg_that_moves_twice_as_much_has_a_beta_of_two() -> None:
    rng = np.random.default_rng(4)
    short_returns = rng.normal(0, 0.01, 40)
    btc = 50_000.0 * np.cumprod(np.concatenate(([1.0], 1 + short_returns)))
    eth = 3_000.0 * np.cumprod(np.concatenate(([1.0], 1 + 2 * short_returns)))
    classes = _classes()
    window = _window({"BTC": btc, "ETH": eth, "SOL": eth / 20})
    assert beta(window, classes["ALTS"], classes["BTC"], "USDT", timedelta(days=1)) == pytest.approx(2.0, rel=1e-9)  # type: ignore[arg-type]


def test_the_covariance_of_two_class_indices_is_annualised_sample_covariance() -> None:
    # Hand case: four hourly prices; BTC returns +10 %, -10 %, +10 %; ALTS (ETH and SOL alike) +5 %, -5 %, +5 %.
    times = [NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - HOUR, NOW]
    btc, alt = [100.0, 110.0, 99.0, 108.9], [10.0, 10.5, 9.975, 10.47375]
    rows = [{"BTC": b, "ETH": a, "SOL": a} for b, a in zip(btc, alt, strict=True)]
    classes = _classes()
    matrix = covariance(
        PriceWindow.from_rows(times, rows, ("BTC", "ETH", "SOL")),
        [classes["BTC"], classes["ALTS"]],  # type: ignore[list-item]
        "USDT",
        timedelta(hours=4),
    )
    # Returns (0.1, -0.1, 0.1): mean 1/30, sample variance ((2/30)^2 x 2 + (4/30)^2) / 2 = 0.013333...
    variance_btc = ((0.1 - 1 / 30) ** 2 * 2 + (-0.1 - 1 / 30) ** 2) / 2
    assert matrix[0, 0] == pytest.approx(variance_btc * 8760.0, rel=1e-9)
    assert matrix[1, 1] == pytest.approx(variance_btc / 4 * 8760.0, rel=1e-9)
    assert matrix[0, 1] == pytest.approx(variance_btc / 2 * 8760.0, rel=1e-9)


def test_an_estimate_from_too_short_a_window_is_refused_with_the_reason() -> None:
    classes = _classes()
    with pytest.raises(EstimateUnavailableError, match="at least 4"):
        beta(_window(_walk(3, seed=1)), classes["ALTS"], classes["BTC"], "USDT", timedelta(hours=2))  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=3, max_value=120),
    st.integers(min_value=1, max_value=4),
    st.sampled_from([60.0, 3600.0, 86400.0]),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.floats(min_value=0.05, max_value=1.0),
)
def test_several_assets_estimated_at_once_match_each_alone_to_the_last_bit_and_stay_under_the_ceiling(
    rows: int, count: int, step: float, seed: int, share: float
) -> None:
    # The reference: numpy's own sample standard deviation of each asset's log returns where it is priced,
    # times the square root of the periods a year at numpy's median spacing. The cheap ceiling (a price missing
    # in the window: none) is never below it.
    rng = np.random.default_rng(seed)
    times = 1.7e9 + np.cumsum(step * rng.choice([1.0, 1.0, 1.0, 2.0], rows))
    prices = np.exp(np.cumsum(rng.normal(0.0, 0.05, (rows, count)), axis=0)) * rng.uniform(0.1, 5e4, count)
    if seed % 3 == 0:
        prices[rng.integers(0, rows, 2), rng.integers(0, count, 2)] = rng.choice([np.nan, np.inf, 0.0, -1.0])
    assets = tuple(f"X{i}" for i in range(count))
    window = PriceWindow(times, assets, prices)
    lookback = timedelta(seconds=share * float(times[-1] - times[0]) + 1.0)
    found, reasons = volatilities(window, [*assets, "ABSENT"], lookback)
    ceilings = volatility_ceilings(window, [*assets, "ABSENT"], lookback)
    assert "ABSENT" not in ceilings
    first = int(np.searchsorted(times, times[-1] - lookback.total_seconds(), side="left"))
    for k, asset in enumerate(assets):
        series, stamps = prices[first:, k], times[first:]
        keep = np.isfinite(series) & (series > 0)
        series, stamps = series[keep], stamps[keep]
        if series.size < 3 or stamps[-1] - stamps[0] < 0.5 * lookback.total_seconds():
            assert asset not in found
            continue
        per_year = 365.0 * 86400.0 / float(np.median(np.diff(stamps)))
        assert found[asset] == float(np.std(np.diff(np.log(series)), ddof=1) * np.sqrt(per_year))
        ceiling = ceilings.get(asset)
        assert ceiling is None or ceiling >= found[asset]
        assert (ceiling is None) == (series.size < times.size - first)
    assert any(reason.startswith("ABSENT: ") for reason in reasons)


def test_the_ceiling_is_reached_by_returns_that_alternate_in_sign() -> None:
    # 31 prices alternating by +/- 5 %: every return is 0.05 in size, the mean is 0, so the sample standard
    # deviation is 0.05 x sqrt(30 / 29), which is exactly ln(highest / lowest) x sqrt(30 / 29): the bound is tight.
    times = [NOW - (30 - i) * timedelta(days=1) for i in range(31)]
    rows = [{"BTC": 100.0 * (1.05 if i % 2 else 1.0)} for i in range(31)]
    window = PriceWindow.from_rows(times, rows, ["BTC"])
    exact = volatility(window, "BTC", timedelta(days=30))
    ceiling = volatility_ceilings(window, ["BTC"], timedelta(days=30)).get("BTC")
    assert exact == pytest.approx(np.log(1.05) * np.sqrt(30 / 29) * np.sqrt(365), rel=1e-12)
    assert ceiling is not None and exact <= ceiling <= exact * (1 + 1e-8)
