"""The cost model and the ``auto`` choice: fees, slippage, and funding with its sign."""

from __future__ import annotations

import pytest

from trimtab.domain import DerivativeQuote
from trimtab.planner.costs import CostModel, FeeModel, FundingModel, SlippageModel, choose_instrument
from trimtab.policy.config import CostsConfig

MODEL = CostModel(FeeModel(0.001), SlippageModel(5.0), FundingModel(7.0))


def test_spot_cost_is_fee_plus_slippage_on_the_absolute_notional() -> None:
    assert MODEL.spot_cost(-8000.0) == pytest.approx(12.0)
    assert MODEL.spot_cost(8000.0) == pytest.approx(12.0)


def test_hedge_cost_pays_to_open_and_to_close_plus_funding() -> None:
    quote = DerivativeQuote(58000.0, 0.0001, 8.0)
    cost = MODEL.hedge_cost(8000.0, quote)
    assert cost.trading == pytest.approx(24.0)
    # A long pays positive funding: 8000 x 0.0001 x 3 per day x 7 days.
    assert cost.funding == pytest.approx(16.8)
    assert cost.total == pytest.approx(40.8)


def test_a_short_receives_positive_funding() -> None:
    quote = DerivativeQuote(58000.0, 0.0001, 8.0)
    assert MODEL.hedge_cost(-8000.0, quote).funding == pytest.approx(-16.8)


def test_funding_interval_changes_the_daily_rate() -> None:
    quote = DerivativeQuote(58000.0, 0.0001, 4.0)
    assert MODEL.hedge_cost(-8000.0, quote).funding == pytest.approx(-33.6)


def test_auto_hedges_an_overweight_class_when_shorts_are_paid_enough() -> None:
    choice = choose_instrument("BTC", -8000.0, "BTC/USDT:USDT", DerivativeQuote(58000.0, 0.0001), MODEL)
    assert choice.route == "hedge"
    assert choice.spot_cost == pytest.approx(12.0)
    assert choice.hedge.total == pytest.approx(7.2)
    assert "BTC uses BTC/USDT:USDT" in choice.note
    assert "7.20" in choice.note and "12.00" in choice.note and "-16.80" in choice.note


def test_auto_trades_spot_when_the_short_would_pay_funding() -> None:
    choice = choose_instrument("BTC", -8000.0, "BTC/USDT:USDT", DerivativeQuote(58000.0, -0.0001), MODEL)
    assert choice.route == "spot"
    assert choice.hedge.total == pytest.approx(40.8)
    assert "BTC uses spot" in choice.note


def test_auto_trades_spot_for_a_long_that_would_pay_funding() -> None:
    choice = choose_instrument("BTC", 8000.0, "BTC/USDT:USDT", DerivativeQuote(58000.0, 0.0001), MODEL)
    assert choice.route == "spot"


def test_auto_breaks_a_tie_toward_spot() -> None:
    # Powers of two keep every figure exact: spot 9.765625; hedge 19.53125 - 9.765625 of funding.
    model = CostModel(FeeModel(2.0**-10), SlippageModel(0.0), FundingModel(1.0))
    choice = choose_instrument("BTC", -10000.0, "X", DerivativeQuote(1.0, 2.0**-10, 24.0), model)
    assert choice.hedge.total == choice.spot_cost == 9.765625
    assert choice.route == "spot"


def test_model_from_policy_costs() -> None:
    model = CostModel.from_config(CostsConfig(taker_fee=0.002, slippage_bps=10.0, funding_horizon_days=3.0))
    assert model.fees.fee(1000.0) == pytest.approx(2.0)
    assert model.slippage.cost(-1000.0) == pytest.approx(1.0)
    assert model.funding.horizon_days == 3.0
