"""Sizing: hedge buy-back first, reduce-before-open splits, sale caps, spot fall-backs, inverse contracts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trimtab.domain import InstrumentKind, MarketRules, MarketSnapshot, Portfolio, Side, SpotHolding
from trimtab.planner import make_plan
from trimtab.planner.costs import CostModel
from trimtab.planner.sizing import Instruction, size_trades
from trimtab.policy.config import CostsConfig, Policy
from trimtab.valuation import valuate


def test_underweight_class_buys_back_its_short_hedge_before_buying_spot(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    # BTC: 0.8 spot (40,000) and a 0.1 short perp (-5,000) -> 35 % of 100,000; goal 50 % -> +15,000.
    portfolio = portfolio_of({"BTC": 0.8, "USDT": 60000.0}, [("BTC/USDT:USDT", -0.1, 50000.0, 1.0)])
    market = market_of({"BTC": 50000.0}, {"BTC/USDT:USDT": (50000.0, 0.0001)})
    plan = make_plan(portfolio, market, policy_of(btc_stable, instrument="spot"))
    first, second = plan.trades
    assert (first.symbol, first.side, first.reduce_only) == ("BTC/USDT:USDT", Side.BUY, True)
    assert first.amount == pytest.approx(0.1)
    assert first.notional == pytest.approx(5000.0)
    assert (second.symbol, second.side, second.reduce_only) == ("BTC/USDT", Side.BUY, False)
    assert second.notional == pytest.approx(10000.0)
    assert second.amount == pytest.approx(0.2)


def test_buy_back_alone_can_reach_the_goal_under_perp(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    # 1.0 spot and a 0.4 short: 30 %; goal 50 % -> buy back exactly the 0.4 short; spot untouched.
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 50000.0}, [("BTC/USDT:USDT", -0.4, 50000.0, 1.0)])
    market = market_of({"BTC": 50000.0}, {"BTC/USDT:USDT": (50000.0, 0.0001)})
    plan = make_plan(portfolio, market, policy_of(btc_stable, instrument="perp"))
    (trade,) = plan.trades
    assert trade.reduce_only and trade.side is Side.BUY
    assert trade.amount == pytest.approx(0.4)
    assert plan.post_trade["BTC"] == pytest.approx(50000.0 / (100000.0 - 20.0))
    assert plan.costs.funding_per_day == 0.0


def test_perp_trade_through_zero_is_split_into_reduce_and_open_legs(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    # 1.1 spot + 0.1 long perp = 60,000 (60 %); goal 50 % -> sell 10,000: close the 0.1 long, open a 0.1 short.
    portfolio = portfolio_of({"BTC": 1.1, "USDT": 45000.0}, [("BTC/USDT:USDT", 0.1, 50000.0, 1.0)])
    market = market_of({"BTC": 50000.0}, {"BTC/USDT:USDT": (50000.0, 0.0)})
    plan = make_plan(portfolio, market, policy_of(btc_stable, instrument="perp", hedge_leverage=2.0))
    reduce, opening = plan.trades
    assert (reduce.side, reduce.reduce_only, reduce.amount) == (Side.SELL, True, pytest.approx(0.1))
    assert (opening.side, opening.reduce_only, opening.amount) == (Side.SELL, False, pytest.approx(0.1))
    assert reduce.notional + opening.notional == pytest.approx(10000.0)
    assert all(t.instrument is InstrumentKind.PERP for t in plan.trades)


def test_spot_sale_never_exceeds_the_holding(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    # The exposure is mostly a long perp; spot can shed only the 0.1 BTC held.
    portfolio = portfolio_of({"BTC": 0.1, "USDT": 95000.0}, [("BTC/USDT:USDT", 1.1, 50000.0, 1.0)])
    market = market_of({"BTC": 50000.0}, {"BTC/USDT:USDT": (50000.0, 0.0)})
    plan = make_plan(portfolio, market, policy_of(btc_stable, instrument="spot"))
    (trade,) = plan.trades
    assert trade.symbol == "BTC/USDT" and trade.side is Side.SELL
    assert trade.amount == 0.1
    assert any("capped at the 0.1 held" in note for note in plan.notes)


def test_class_without_hedge_trades_spot_under_perp_and_says_so(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    classes = [dict(btc_stable[0]), dict(btc_stable[1])]
    del classes[0]["hedge"]
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 42000.0})
    plan = make_plan(portfolio, market_of({"BTC": 58000.0}), policy_of(classes, instrument="perp"))
    (trade,) = plan.trades
    assert trade.symbol == "BTC/USDT"
    assert any("BTC has no hedge: traded spot" in note for note in plan.notes)


def test_inverse_hedge_is_counted_in_contracts(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    classes = [dict(btc_stable[0], hedge="BTC/USD:BTC"), dict(btc_stable[1])]
    portfolio = portfolio_of({"BTC": 1.2, "USDT": 40000.0})
    market = market_of(
        {"BTC": 50000.0},
        {"BTC/USD:BTC": (49900.0, 0.0)},
        rules={"BTC/USD:BTC": MarketRules(contract_size=100.0)},
    )
    plan = make_plan(portfolio, market, policy_of(classes, instrument="perp"))
    (trade,) = plan.trades
    # 60 % -> 50 %: short 10,000 of exposure; one contract carries 100 x 50,000 / 49,900 of it.
    assert trade.side is Side.SELL
    assert trade.notional == pytest.approx(10000.0)
    assert trade.amount == pytest.approx(10000.0 / (100.0 * 50000.0 / 49900.0))
    assert plan.post_trade["BTC"] == pytest.approx(50000.0 / (100000.0 - 10.0))


def test_spot_re_splits_a_class_around_its_index_hedge(
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    four_classes: tuple[dict[str, Any], ...],
    policy_of: Callable[..., Policy],
) -> None:
    # ALTS sits at its 15 % target (100,000 of spot, a 25,000 index short) but its assets drifted apart.
    portfolio = portfolio_of(
        {"BTC": 2.0, "ETH": 50.0, "SOL": 250.0, "AVAX": 1000.0, "LINK": 2000.0, "USDT": 50000.0},
        [("ALTS/USDT:USDT", -250.0, 100.0, 3.0)],
    )
    market = market_of(
        {"BTC": 100000.0, "ETH": 3000.0, "SOL": 160.0, "AVAX": 30.0, "LINK": 15.0},
        {"ALTS/USDT:USDT": (100.0, 0.0)},
    )
    policy = policy_of(four_classes)
    classes = policy.asset_classes()
    valuation = valuate(portfolio, market, classes)
    assert valuation.equity == pytest.approx(500000.0)
    goals = {c.name: c.target for c in classes}
    sizing = size_trades(
        valuation,
        portfolio,
        market,
        classes,
        goals,
        ("ALTS",),
        {c.name: Instruction("spot", c.hedge) for c in classes},
        CostModel.from_config(CostsConfig()),
    )
    by_symbol = {t.symbol: t for t in sizing.trades}
    # Each asset's net exposure goes to 75,000 / 3 = 25,000, counting a third of the index short.
    assert by_symbol["SOL/USDT"].side is Side.SELL
    assert by_symbol["SOL/USDT"].notional == pytest.approx(40000.0 - 25000.0 - 25000.0 / 3.0)
    assert by_symbol["AVAX/USDT"].side is Side.BUY
    assert by_symbol["AVAX/USDT"].notional == pytest.approx(25000.0 + 25000.0 / 3.0 - 30000.0)
    assert by_symbol["LINK/USDT"].notional == pytest.approx(25000.0 + 25000.0 / 3.0 - 30000.0)
    assert "ALTS/USDT:USDT" not in by_symbol


def test_perp_leaves_an_existing_long_hedge_reduced_before_opening_a_short(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    # 0.9 spot + 0.3 long perp = 60 %; selling 10,000 takes 0.2 of the long: one reduce-only leg, no opening.
    portfolio = portfolio_of({"BTC": 0.9, "USDT": 55000.0}, [("BTC/USDT:USDT", 0.3, 50000.0, 1.0)])
    market = market_of({"BTC": 50000.0}, {"BTC/USDT:USDT": (50000.0, 0.0)})
    plan = make_plan(portfolio, market, policy_of(btc_stable, instrument="perp"))
    (trade,) = plan.trades
    assert trade.reduce_only and trade.side is Side.SELL
    assert trade.amount == pytest.approx(0.2)


def test_a_sale_larger_than_the_main_venues_holding_is_split_across_venues(
    policy_of: Callable[..., Policy],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    # 0.7 BTC on binance and 0.3 on okx, nothing else: BTC is 100 %. Going to 50 % sells 0.5, all of it on
    # binance, the largest holding.
    portfolio = Portfolio(
        "USDT",
        (SpotHolding("BTC", 0.7, "binance"), SpotHolding("BTC", 0.3, "okx"), SpotHolding("USDT", 0.0, "binance")),
    )
    market = market_of({"BTC": 100000.0})
    (trade,) = make_plan(portfolio, market, policy_of(btc_stable)).trades
    assert (trade.venue, trade.amount) == ("binance", pytest.approx(0.5))
    # With a zero target for BTC, the whole 1.0 BTC goes: 0.7 on binance, then 0.3 on okx.
    classes = [dict(btc_stable[0], target=0.0, band=0.05), dict(btc_stable[1], target=1.0)]
    trades = make_plan(portfolio, market, policy_of(classes)).trades
    assert [(t.venue, t.amount) for t in trades] == [("binance", 0.7), ("okx", 0.3)]
    assert all(t.side is Side.SELL for t in trades)


def test_a_perp_class_on_its_goal_leaves_its_spot_alone(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    four_classes: tuple[dict[str, Any], ...],
) -> None:
    # ALTS sits exactly on 15 % but its assets drifted apart; under perp nothing re-splits its spot.
    portfolio = portfolio_of({"BTC": 2.3, "ETH": 50.0, "SOL": 250.0, "AVAX": 500.0, "LINK": 1000.0, "USDT": 45000.0})
    market = market_of(
        {"BTC": 100000.0, "ETH": 3000.0, "SOL": 160.0, "AVAX": 30.0, "LINK": 20.0},
        {"BTC/USDT:USDT": (100000.0, 0.0), "ETH/USDT:USDT": (3000.0, 0.0), "ALTS/USDT:USDT": (100.0, 0.0)},
    )
    plan = make_plan(portfolio, market, policy_of(four_classes, instrument="perp", hedge_leverage=3.0))
    assert plan.classes[2].weight == pytest.approx(0.15)
    assert plan.triggered
    assert [t.symbol for t in plan.trades] == ["BTC/USDT:USDT"]
    spot_plan = make_plan(portfolio, market, policy_of(four_classes, instrument="spot"))
    assert {"SOL/USDT", "AVAX/USDT", "LINK/USDT"} <= {t.symbol for t in spot_plan.trades}


def test_a_dated_future_hedge_trades_as_a_future_and_pays_no_funding(
    policy_of: Callable[..., Policy],
    portfolio_of: Callable[..., Portfolio],
    market_of: Callable[..., MarketSnapshot],
    btc_stable: tuple[dict[str, Any], ...],
) -> None:
    classes = [dict(btc_stable[0], hedge="BTC/USDT:USDT-261225"), dict(btc_stable[1])]
    portfolio = portfolio_of({"BTC": 1.0, "USDT": 42000.0})
    market = market_of({"BTC": 58000.0}, {"BTC/USDT:USDT-261225": (58400.0, 0.0)})
    plan = make_plan(portfolio, market, policy_of(classes, instrument="perp"))
    (trade,) = plan.trades
    assert trade.instrument is InstrumentKind.FUTURE
    assert trade.notional == pytest.approx(8000.0)
    assert trade.amount == pytest.approx(8000.0 / 58400.0)
    assert plan.costs.funding_per_day == 0.0
