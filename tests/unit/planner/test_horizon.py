"""The ``"auto"`` funding horizon: Brownian motion's mean exit time from the band, clipped to [1, 365] days."""

from __future__ import annotations

import pytest

from trimtab.domain.classes import AssetClass
from trimtab.planner.horizon import auto_horizons, drift_days
from trimtab.policy.bands import Band

PERP = "BTC/USDT:USDT"
ETH_PERP = "ETH/USDT:USDT"
BTC = AssetClass("BTC", ("BTC",), 0.5, {"BTC": 1.0}, 0.05, hedge=PERP)
CASH = AssetClass("CASH", ("USDT",), 0.5, {"USDT": 1.0}, 0.05, cash=True)
BANDS = {"BTC": Band(0.5, 0.05), "CASH": Band(0.5, 0.05)}


def test_the_mean_exit_time_from_the_band_is_h_squared_over_sigma_squared() -> None:
    assert drift_days(0.05, 0.25) == pytest.approx(0.04 * 365)  # 14.6 days
    assert drift_days(0.10, 0.20) == pytest.approx(0.25 * 365)  # a quarter of a year


def test_the_estimate_is_clipped_to_a_day_and_a_year() -> None:
    assert drift_days(0.002, 0.5) == 1.0  # 0.000016 years = 0.006 days
    assert drift_days(0.25, 0.05) == 365.0  # 25 years
    assert drift_days(0.05, 0.0) == 365.0  # a weight that does not move


def test_a_measured_holding_time_wins_over_the_drift_and_no_volatility_falls_back_to_a_week() -> None:
    assert auto_horizons((BTC, CASH), BANDS, {"BTC": 0.5}, None).days == {PERP: 14.6}
    measured = auto_horizons((BTC, CASH), BANDS, {"BTC": 0.5}, {PERP: 40.04})
    assert measured.days == {PERP: 40.0}
    assert measured.notes == (
        "funding horizon of BTC: 40 days, the session's measured holding time of its hedges on BTC/USDT:USDT, "
        "weighted by notional (40.0 days)",
    )
    fallback = auto_horizons((BTC, CASH), BANDS, {}, None)
    assert fallback.days == {PERP: 7.0} and "no volatility for BTC" in fallback.notes[0]


def test_another_classs_measured_hold_does_not_stand_in_for_a_class_without_its_own() -> None:
    # ETH's hedges were held 183 days; BTC has measured none of its own: its drift, 14.6 days, not 183.
    assert auto_horizons((BTC, CASH), BANDS, {"BTC": 0.5}, {ETH_PERP: 183.0}).days == {PERP: 14.6}
    assert auto_horizons((BTC, CASH), BANDS, {}, {ETH_PERP: 183.0}).days == {PERP: 7.0}
