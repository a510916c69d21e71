"""Black-76 with zero rates: textbook values, put-call parity, and greeks against finite differences."""

from __future__ import annotations

import math

import pytest

from trimtab.domain.instruments import OptionType
from trimtab.valuation import black76

CALL, PUT = OptionType.CALL, OptionType.PUT


def test_at_the_money_one_year_twenty_vol_textbook_figures() -> None:
    # d1 = 0.1, d2 = -0.1; N(0.1) = 0.5398278373, phi(0.1) = 0.3969525475.
    call = black76(100.0, 100.0, 1.0, 0.2, CALL)
    put = black76(100.0, 100.0, 1.0, 0.2, PUT)
    assert call.value == pytest.approx(7.965567455, abs=1e-8)
    assert put.value == pytest.approx(7.965567455, abs=1e-8)
    assert call.delta == pytest.approx(0.5398278373, abs=1e-9)
    assert put.delta == pytest.approx(-0.4601721627, abs=1e-9)
    assert call.gamma == pytest.approx(0.3969525475 / 20.0, abs=1e-10)
    assert call.vega == pytest.approx(39.69525475, abs=1e-7)
    assert call.theta_per_day == pytest.approx(-3.969525475 / 365.0, abs=1e-10)
    assert put.gamma == call.gamma and put.theta_per_day == call.theta_per_day


def test_haug_black76_example_discounted() -> None:
    # Haug, The Complete Guide to Option Pricing Formulas: F = K = 19, T = 0.75, r = 10 %, vol 28 %:
    # call = put = 1.7011. Black-76 discounts by exp(-rT); with zero rates the undiscounted value is returned.
    call = black76(19.0, 19.0, 0.75, 0.28, CALL)
    assert call.value * math.exp(-0.10 * 0.75) == pytest.approx(1.7011, abs=1e-4)


@pytest.mark.parametrize(
    ("forward", "strike", "years", "vol"),
    [(58000.0, 70000.0, 0.094, 0.55), (3000.0, 2500.0, 0.5, 0.8), (1.0, 1.2, 2.0, 1.5), (140.0, 140.0, 0.01, 0.9)],
)
def test_put_call_parity_holds_with_zero_rates(forward: float, strike: float, years: float, vol: float) -> None:
    call = black76(forward, strike, years, vol, CALL)
    put = black76(forward, strike, years, vol, PUT)
    assert call.value - put.value == pytest.approx(forward - strike, rel=1e-9, abs=1e-9 * forward)
    assert call.delta - put.delta == pytest.approx(1.0, abs=1e-12)
    assert call.gamma == pytest.approx(put.gamma)
    assert call.vega == pytest.approx(put.vega)
    assert call.theta_per_day == pytest.approx(put.theta_per_day)


@pytest.mark.parametrize("right", [CALL, PUT])
@pytest.mark.parametrize(
    ("forward", "strike", "years", "vol"), [(58000.0, 70000.0, 0.094, 0.55), (3000.0, 2800.0, 0.3, 0.7)]
)
def test_greeks_match_finite_differences(
    right: OptionType, forward: float, strike: float, years: float, vol: float
) -> None:
    greeks = black76(forward, strike, years, vol, right)

    def value(f: float = forward, t: float = years, v: float = vol) -> float:
        return black76(f, strike, t, v, right).value

    h = forward * 1e-4
    assert greeks.delta == pytest.approx((value(forward + h) - value(forward - h)) / (2 * h), rel=1e-6)
    assert greeks.gamma == pytest.approx((value(forward + h) - 2 * value() + value(forward - h)) / h**2, rel=1e-4)
    assert greeks.vega == pytest.approx((value(v=vol + 1e-6) - value(v=vol - 1e-6)) / 2e-6, rel=1e-6)
    day = 1.0 / 365.0
    # A day passing shortens the time to expiry by one day.
    assert greeks.theta_per_day == pytest.approx(
        (value(t=years - day * 1e-3) - value(t=years + day * 1e-3)) / 2e-3, rel=1e-5
    )
    assert greeks.theta_per_day < 0


def test_an_expired_option_is_worth_its_intrinsic_value_with_a_step_delta() -> None:
    in_the_money_call = black76(110.0, 100.0, 0.0, 0.5, CALL)
    assert (in_the_money_call.value, in_the_money_call.delta) == (10.0, 1.0)
    assert (in_the_money_call.gamma, in_the_money_call.vega, in_the_money_call.theta_per_day) == (0.0, 0.0, 0.0)
    out_of_the_money_call = black76(90.0, 100.0, -1.0, 0.5, CALL)
    assert (out_of_the_money_call.value, out_of_the_money_call.delta) == (0.0, 0.0)
    in_the_money_put = black76(90.0, 100.0, 0.0, 0.5, PUT)
    assert (in_the_money_put.value, in_the_money_put.delta) == (10.0, -1.0)
    at_the_money_put = black76(100.0, 100.0, 0.0, 0.5, PUT)
    assert (at_the_money_put.value, at_the_money_put.delta) == (0.0, 0.0)


def test_zero_volatility_gives_intrinsic_value() -> None:
    assert black76(120.0, 100.0, 1.0, 0.0, CALL).value == 20.0
    assert black76(120.0, 100.0, 1.0, 0.0, PUT).value == 0.0


def test_deep_in_the_money_call_tends_to_forward_minus_strike() -> None:
    greeks = black76(1000.0, 100.0, 0.1, 0.3, CALL)
    assert greeks.value == pytest.approx(900.0, abs=1e-9)
    assert greeks.delta == pytest.approx(1.0, abs=1e-12)
