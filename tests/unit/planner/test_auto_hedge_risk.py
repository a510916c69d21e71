"""``auto`` can price the margin a hedge ties up and its liquidation risk over the holding time (both opt-in).

Expected figures are computed here from the published formulas with the standard library's normal
distribution and error function (the reflection principle for a driftless random walk:
P(max within T >= x) = 2 Phi(-x / s), and Phi(z) = (1 + erf(z / sqrt 2)) / 2).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from trimtab.domain.market import DerivativeQuote
from trimtab.planner.costs import CostModel, FeeModel, FundingModel, HedgeRisk, SlippageModel, choose_instrument

QUOTE = DerivativeQuote(mark=100.0, funding_rate=0.0001, funding_interval_hours=8.0)  # 0.03 % a day
PERP = "BTC/USDT:USDT"


def _model(
    leverage: float, margin_rate: float = 0.0, sigma: float | None = None, liquidation: bool = True, days: float = 7.0
) -> CostModel:
    volatility = {"BTC": sigma} if sigma is not None else {}
    return CostModel(
        FeeModel(0.001, 0.0002),
        SlippageModel(5.0),
        FundingModel(days),
        risk=HedgeRisk(leverage, margin_rate, volatility, liquidation=liquidation),
    )


def _chance(leverage: float, sigma: float, days: float, m: float = 0.005) -> float:
    distance = math.log((1 + 1 / leverage) / (1 + m))  # a short's isolated liquidation price, in log terms
    return 2 * NormalDist().cdf(-distance / (sigma * math.sqrt(days / 365)))


def test_a_short_hedge_near_liquidation_at_the_policy_leverage_is_traded_spot() -> None:
    # Selling 10 000 of exposure: spot costs 10 000 x 0.15 % = 15. The short hedge costs 30 to open and close
    # and receives 10 000 x 0.03 % x 7 = 21 of funding: 9, cheaper, at 2x. At 50x its liquidation price is
    # ln(1.02 / 1.005) = 1.48 % away; at 80 % volatility over 7 days it is reached with probability 0.894,
    # losing 0.5 % maintenance + 0.15 % to restore the exposure: 0.894 x 65 = 58.1, so spot wins.
    at_fifty = choose_instrument("BTC", -10_000.0, PERP, QUOTE, _model(50.0))
    chance = _chance(50.0, 0.8, 7.0)
    assert chance == pytest.approx(0.8936, abs=1e-4)
    assert at_fifty.hedge.liquidation_chance == pytest.approx(chance, rel=1e-9)
    assert at_fifty.hedge.liquidation == pytest.approx(chance * 10_000 * 0.0065, rel=1e-9)
    assert at_fifty.hedge.total == pytest.approx(30.0 - 21.0 + chance * 65.0, rel=1e-9)
    assert at_fifty.route == "spot"
    assert "liquidation risk 58.09 (89.4% chance at 50x, assumed volatility 80%) the hedge costs 67.09" in at_fifty.note

    at_two = choose_instrument("BTC", -10_000.0, PERP, QUOTE, _model(2.0))
    assert at_two.hedge.liquidation_chance == pytest.approx(_chance(2.0, 0.8, 7.0), rel=1e-6)
    assert at_two.hedge.liquidation < 0.05
    assert at_two.route == "hedge"


def test_the_estimated_volatility_and_a_longer_hold_raise_the_risk() -> None:
    calm = choose_instrument("BTC", -10_000.0, PERP, QUOTE, _model(10.0, sigma=0.2))
    wild = choose_instrument("BTC", -10_000.0, PERP, QUOTE, _model(10.0, sigma=1.2))
    assert calm.hedge.liquidation_chance == pytest.approx(_chance(10.0, 0.2, 7.0), rel=1e-6)
    assert wild.hedge.liquidation_chance == pytest.approx(_chance(10.0, 1.2, 7.0), rel=1e-6)
    assert "estimated volatility 20%" in calm.note
    assert calm.route == "hedge" and wild.route == "spot"


def test_margin_use_is_charged_at_the_policy_rate_over_the_hold() -> None:
    # 10 000 at 2x ties up 5 000 for 7 days; at 10 % a year that is 5 000 x 0.10 x 7 / 365 = 9.59.
    choice = choose_instrument("BTC", -10_000.0, PERP, QUOTE, _model(2.0, margin_rate=0.10, liquidation=False))
    assert choice.hedge.margin == pytest.approx(5_000 * 0.10 * 7 / 365, rel=1e-12)
    assert choice.hedge.liquidation == 0.0
    assert choice.route == "spot"  # 9 + 9.59 > 15
    assert "with the hedge's margin use 9.59 (10.0% a year on 1/2 of it) the hedge costs 18.59" in choice.note
    assert "liquidation risk" not in choice.note


@pytest.mark.parametrize(("leverage", "sigma", "days"), [(3.0, 0.6, 30.0), (5.0, 1.1, 14.0), (20.0, 0.45, 90.0)])
def test_the_opt_in_liquidation_term_is_the_reflection_principle_probability_times_the_loss(
    leverage: float, sigma: float, days: float
) -> None:
    # Independently: x = ln((1 + 1/L) / (1 + m)) for a short at m = 0.5 %; p = 2 Phi(-x / (sigma sqrt(H / 365)))
    # with Phi from the error function; the loss is |n| x (m + taker + slippage) = 10 000 x 0.65 %.
    x = math.log((1.0 + 1.0 / leverage) / 1.005)
    z = -x / (sigma * math.sqrt(days / 365.0))
    p = 2.0 * 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
    choice = choose_instrument("BTC", -10_000.0, PERP, QUOTE, _model(leverage, sigma=sigma, days=days))
    assert choice.hedge.liquidation_chance == pytest.approx(p, rel=1e-12)
    assert choice.hedge.liquidation == pytest.approx(p * 65.0, rel=1e-12)
    funding = -10_000.0 * 0.0001 * 3 * days
    assert choice.hedge.total == pytest.approx(30.0 + funding + p * 65.0, rel=1e-12)


def test_without_the_opt_in_the_hedge_costs_the_contracts_terms_only() -> None:
    # The contract's hedge cost: 10 000 x 0.15 % to open and again to close, less 21 of funding over 7 days.
    for risk in (None, HedgeRisk(50.0, 0.0)):
        model = CostModel(FeeModel(0.001, 0.0002), SlippageModel(5.0), FundingModel(7.0), risk=risk)
        choice = choose_instrument("BTC", -10_000.0, PERP, QUOTE, model)
        assert choice.hedge.total == pytest.approx(30.0 - 21.0, rel=1e-12)
        assert choice.hedge.liquidation_chance == 0.0
        assert choice.route == "hedge"  # 9 < 15, however close to liquidation 50x is
        assert choice.note.endswith("vs spot cost 15.00 for 10000.00 of exposure")


def test_a_long_at_one_x_cannot_be_liquidated() -> None:
    choice = choose_instrument("BTC", 10_000.0, PERP, QUOTE, _model(1.0))
    assert choice.hedge.liquidation_chance == 0.0
    long_chance = 2 * NormalDist().cdf(math.log((1 - 1 / 4) / (1 - 0.005)) / (0.8 * math.sqrt(7 / 365)))
    at_four = choose_instrument("BTC", 10_000.0, PERP, QUOTE, _model(4.0))
    assert at_four.hedge.liquidation_chance == pytest.approx(long_chance, rel=1e-6)
