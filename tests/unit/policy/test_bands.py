"""Bands: fixed, relative and volatility-adaptive; the strict edge; realised volatility."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trimtab.domain.classes import AssetClass
from trimtab.policy.bands import (
    Band,
    class_bands,
    class_volatility,
    realised_volatility,
    rolling_realised_volatility,
)
from trimtab.policy.config import AdaptiveConfig

BTC = AssetClass("BTC", ("BTC",), 0.5, {"BTC": 1.0}, band=0.05)
ALTS = AssetClass("ALTS", ("SOL", "XRP"), 0.2, {"SOL": 0.75, "XRP": 0.25}, band_relative=0.25)
CASH = AssetClass("STABLE", ("USDT",), 0.3, {"USDT": 1.0}, band=0.03, cash=True)
CLASSES = (BTC, ALTS, CASH)
TARGETS = {"BTC": 0.5, "ALTS": 0.2, "STABLE": 0.3}


def test_band_edges_are_inside_and_just_beyond_is_breached() -> None:
    band = Band(target=0.5, half_width=0.05)
    assert band.lower == pytest.approx(0.45)
    assert band.upper == pytest.approx(0.55)
    # 0.75 - 0.5 is exactly 0.25 in binary floating point: the edge itself is not a breach
    edge = Band(target=0.5, half_width=0.25)
    assert not edge.breached(0.75)
    assert not edge.breached(0.25)
    assert edge.breached(0.7500001)
    assert edge.breached(0.2499999)
    assert edge.contains(0.75)
    assert not edge.contains(0.76)
    assert edge.contains(0.76, tolerance=0.011)


def test_band_of_a_short_target_lies_below_zero() -> None:
    band = Band(target=-0.3, half_width=0.05)
    assert band.lower == pytest.approx(-0.35)
    assert band.upper == pytest.approx(-0.25)
    assert band.breached(-0.2)
    assert not band.breached(-0.33)


def test_fixed_bands_use_absolute_or_relative_half_widths() -> None:
    bands = class_bands(CLASSES, TARGETS, None, {"BTC": 2.0})
    assert bands["BTC"] == Band(0.5, 0.05)
    assert bands["ALTS"].half_width == pytest.approx(0.05)  # 0.2 x 0.25
    assert bands["STABLE"] == Band(0.3, 0.03)
    assert list(bands) == ["BTC", "ALTS", "STABLE"]


def test_relative_band_follows_the_target_model_target() -> None:
    bands = class_bands(CLASSES, {"BTC": 0.5, "ALTS": 0.4, "STABLE": 0.1}, None, {})
    assert bands["ALTS"].target == pytest.approx(0.4)
    assert bands["ALTS"].half_width == pytest.approx(0.1)  # 0.4 x 0.25
    short = class_bands(CLASSES, {"BTC": 0.5, "ALTS": -0.2, "STABLE": 0.7}, None, {})
    assert short["ALTS"].half_width == pytest.approx(0.05)  # |-0.2| x 0.25


def test_missing_target_keeps_the_policy_target() -> None:
    bands = class_bands(CLASSES, {"BTC": 0.6}, None, {})
    assert bands["ALTS"].target == pytest.approx(0.2)
    assert bands["STABLE"].target == pytest.approx(0.3)


def test_adaptive_bands_scale_with_volatility_over_reference() -> None:
    adaptive = AdaptiveConfig(reference_vol=0.60, min_band=0.01, max_band=0.15)
    bands = class_bands(CLASSES, TARGETS, adaptive, {"BTC": 0.90, "USDT": 5.0})
    assert bands["BTC"].half_width == pytest.approx(0.05 * 0.90 / 0.60)  # 0.075
    # ALTS has no known volatility and keeps its fixed relative band; cash never adapts
    assert bands["ALTS"].half_width == pytest.approx(0.05)
    assert bands["STABLE"].half_width == pytest.approx(0.03)


def test_adaptive_bands_are_clipped_to_min_and_max() -> None:
    adaptive = AdaptiveConfig(reference_vol=0.60, min_band=0.02, max_band=0.08)
    wide = class_bands(CLASSES, TARGETS, adaptive, {"BTC": 3.0})
    assert wide["BTC"].half_width == pytest.approx(0.08)  # 0.25 clipped
    calm = class_bands(CLASSES, TARGETS, adaptive, {"BTC": 0.12})
    assert calm["BTC"].half_width == pytest.approx(0.02)  # 0.01 clipped


def test_class_volatility_weights_known_assets_by_the_split() -> None:
    assert class_volatility(ALTS, {"SOL": 0.8, "XRP": 1.2}) == pytest.approx(0.75 * 0.8 + 0.25 * 1.2)
    assert class_volatility(ALTS, {"XRP": 1.2}) == pytest.approx(1.2)  # only XRP known
    assert class_volatility(ALTS, {"BTC": 0.5}) is None
    adaptive = AdaptiveConfig(reference_vol=0.5, min_band=0.01, max_band=0.15)
    bands = class_bands(CLASSES, TARGETS, adaptive, {"SOL": 0.8, "XRP": 1.2})
    assert bands["ALTS"].half_width == pytest.approx(0.05 * 0.9 / 0.5)  # 0.09


def test_realised_volatility_of_alternating_returns() -> None:
    # log returns +r, -r, +r, -r: mean 0, sample variance 4 r^2 / 3
    r = 0.01
    closes = [100.0, 100.0 * math.exp(r), 100.0, 100.0 * math.exp(r), 100.0]
    expected = math.sqrt(4 * r * r / 3) * math.sqrt(365)
    assert realised_volatility(closes, 365) == pytest.approx(expected)


def test_realised_volatility_of_a_steady_trend_is_zero() -> None:
    closes = [100.0 * 1.01**i for i in range(10)]
    assert realised_volatility(closes, 8760) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("closes", [[100.0, 101.0], [100.0, 0.0, 101.0], [100.0, float("nan"), 99.0]])
def test_realised_volatility_rejects_unusable_series(closes: list[float]) -> None:
    with pytest.raises(ValueError):
        realised_volatility(closes, 365)


def test_realised_volatility_rejects_a_bad_period_count() -> None:
    with pytest.raises(ValueError, match="periods_per_year"):
        realised_volatility([1.0, 2.0, 3.0], 0)


def test_rolling_volatility_matches_each_window() -> None:
    rng = np.random.default_rng(3)
    closes = (30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 400)))).tolist()
    rolling = rolling_realised_volatility(closes, 30, 8760)
    assert len(rolling) == 400
    assert all(math.isnan(v) for v in rolling[:30])
    for t in (30, 31, 200, 399):
        assert rolling[t] == pytest.approx(realised_volatility(closes[t - 30 : t + 1], 8760), rel=1e-9)


def test_rolling_volatility_of_a_short_series_is_all_nan() -> None:
    assert all(math.isnan(v) for v in rolling_realised_volatility([1.0, 2.0, 3.0], 5, 365))
    with pytest.raises(ValueError, match="two returns"):
        rolling_realised_volatility([1.0, 2.0, 3.0], 1, 365)
