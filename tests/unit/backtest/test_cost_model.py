"""A cost model as exchanges charge: fees per instrument kind and side, maker or taker fills in backtests,
and the square-root impact model chosen in the policy file. Figures by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.backtest.fastpath import eligibility
from trimtab.backtest.replay import prepare
from trimtab.domain import MarketSnapshot, Portfolio, SpotHolding
from trimtab.feed.history import MarketHistory
from trimtab.planner import make_plan
from trimtab.policy.config import Policy
from trimtab.venues.simulation.models import RealityModels
from trimtab.venues.simulation.slippage import SquareRootImpact

DAY = 86_400 * 10**9
EPOCH = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) * 10**9
DATA = Path(__file__).resolve().parents[3] / "data" / "market"


def history(closes: list[float]) -> MarketHistory:
    times = np.array([EPOCH + n * DAY for n in range(len(closes))], dtype=np.int64)
    close = np.array([[c, 1.0] for c in closes])
    return MarketHistory(
        timeframe="1d",
        assets=("BTC", "USDT"),
        timestamps=times,
        close=close,
        high=close,
        low=close,
        volume=np.ones_like(close) * 1e12,
        coverage={"BTC": (int(times[0]), int(times[-1])), "USDT": (int(times[0]), int(times[-1]))},
    )


def policy(costs: dict[str, Any], **rebalance: Any) -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05, "hedge": "BTC/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
            "rebalance": rebalance,
            "costs": costs,
        }
    )


PERP_FEES = {"taker_fee": 0.001, "maker_fee": 0.0002, "fees": {"perp": {"taker": 0.0005, "maker": -0.0001}}}
MARKET = MarketSnapshot(datetime(2026, 11, 21, tzinfo=UTC), {"BTC": 58000.0})
PORTFOLIO = Portfolio("USDT", (SpotHolding("BTC", 1.0), SpotHolding("USDT", 42000.0)))


def test_a_plan_charges_each_instrument_kind_its_own_fee() -> None:
    from trimtab.domain import DerivativeQuote

    market = MarketSnapshot(MARKET.timestamp, MARKET.prices, {"BTC/USDT:USDT": DerivativeQuote(58000.0)})
    spot = make_plan(PORTFOLIO, market, policy(PERP_FEES))
    assert spot.costs.fees == pytest.approx(8000.0 * 0.001)
    hedged = make_plan(PORTFOLIO, market, policy(PERP_FEES, instrument="perp"))
    assert [t.symbol for t in hedged.trades] == ["BTC/USDT:USDT"]
    assert hedged.costs.fees == pytest.approx(8000.0 * 0.0005)


def test_a_maker_fill_pays_the_maker_fee_and_no_slippage_in_plans_and_backtests() -> None:
    costs = {"taker_fee": 0.001, "maker_fee": 0.0002, "slippage_bps": 5.0, "fill": "maker"}
    plan = make_plan(PORTFOLIO, MARKET, policy(costs))
    assert (plan.costs.fees, plan.costs.slippage) == (pytest.approx(8000.0 * 0.0002), 0.0)
    # 1,000 buys 500 of BTC at 100 (fee 0.1); at 200 BTC is 1,000 of 1,499.9: sell 250.05 (fee 0.05001).
    for fast in (True, False):
        result = run_backtest(policy(costs), history([100.0, 200.0]), capital=1000.0, fast=fast)
        assert result.metrics["fees"] == pytest.approx(0.1 + 250.05 * 0.0002)
        assert result.metrics["slippage"] == 0.0
        assert [t["price"] for t in result.trades] == [100.0, 200.0]


def test_a_taker_backtest_pays_the_spot_rate_of_its_kind() -> None:
    costs = {"taker_fee": 0.001, "slippage_bps": 0.0, "fees": {"spot": {"taker": 0.0008, "maker": 0.0}}}
    fast = run_backtest(policy(costs), history([100.0, 200.0]), capital=1000.0)
    event = run_backtest(policy(costs), history([100.0, 200.0]), capital=1000.0, fast=False)
    # 500 x 0.0008 = 0.4; at 200: 1,000 of 1,499.6, sell 250.2 x 0.0008.
    for result in (fast, event):
        assert result.metrics["fees"] == pytest.approx(0.4 + 250.2 * 0.0008)


def test_the_square_root_impact_model_is_chosen_in_the_policy_file() -> None:
    chosen = policy({"slippage_bps": 2.0, "slippage_model": "square-root", "impact": 0.7})
    models = RealityModels.from_costs(chosen.costs)
    assert models.slippage == SquareRootImpact(half_spread_bps=2.0, impact=0.7)
    replay = prepare(chosen, history([100.0, 200.0]), None, None)
    assert eligibility(replay, models).reason == "slippage depends on volume"


def test_square_root_impact_costs_more_on_a_large_account_than_the_constant_half_spread() -> None:
    from trimtab.feed import load_history

    data = load_history(DATA, ["BTC", "USDT"], timeframe="1d", end=datetime(2022, 1, 1, tzinfo=UTC), use_cache=False)
    constant = run_backtest(policy({"slippage_bps": 5.0}), data, capital=1e9)
    impact = run_backtest(policy({"slippage_bps": 5.0, "slippage_model": "square-root"}), data, capital=1e9)
    assert impact.used_fast_path is False
    assert impact.metrics["slippage"] > 1.5 * constant.metrics["slippage"]
