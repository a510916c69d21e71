"""Target models: fixed, core-satellite, delta-target and the factory, with hand-computed numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from trimtab.domain.instruments import parse_symbol
from trimtab.domain.market import DerivativeQuote, MarketSnapshot
from trimtab.domain.portfolio import DerivativePosition, Portfolio, SpotHolding
from trimtab.policy.bands import class_bands
from trimtab.policy.config import CoreSatelliteStrategy, Policy
from trimtab.policy.targets import (
    BetaNeutralTargets,
    CoreSatelliteTargets,
    CppiTargets,
    DeltaTargets,
    FixedTargets,
    TargetContext,
    build_target_model,
    with_cash_remainder,
)
from trimtab.policy.triggers import ThresholdTrigger, TriggerContext
from trimtab.valuation import Valuation, valuate

ValuationFactory = Callable[..., Valuation]
PolicyFactory = Callable[..., Policy]
NO_STATE = TargetContext()
WEIGHTS = {"BTC": 0.45, "ETH": 0.33, "ALTS": 0.10, "STABLE": 0.12}


def test_fixed_returns_the_policy_targets(make_policy: PolicyFactory, valuation_of: ValuationFactory) -> None:
    model = build_target_model(make_policy())
    assert isinstance(model, FixedTargets)
    result = model.targets(valuation_of(WEIGHTS), NO_STATE)
    assert result.targets == pytest.approx({"BTC": 0.40, "ETH": 0.30, "ALTS": 0.15, "STABLE": 0.15})
    assert list(result.targets) == ["BTC", "ETH", "ALTS", "STABLE"]
    assert result.instruments == {}
    assert result.hedges == {}


def test_cash_remainder_fills_the_cash_class(make_policy: PolicyFactory) -> None:
    classes = make_policy().asset_classes()
    targets = with_cash_remainder(classes, {"BTC": 0.6, "ETH": -0.2})
    assert targets == pytest.approx({"BTC": 0.6, "ETH": -0.2, "ALTS": 0.15, "STABLE": 0.45})


def _core_satellite(make_policy: PolicyFactory, index_hedge: str = "BTC/USDT:USDT") -> Policy:
    strategy = {"kind": "core-satellite", "core": ["BTC", "ETH"], "satellite": ["ALTS"], "index_hedge": index_hedge}
    return make_policy(strategy=strategy)


def test_core_satellite_offsets_the_sleeve_excess_on_the_carrier(
    make_policy: PolicyFactory, valuation_of: ValuationFactory
) -> None:
    model = build_target_model(_core_satellite(make_policy))
    assert isinstance(model, CoreSatelliteTargets)
    result = model.targets(valuation_of(WEIGHTS), NO_STATE)
    # core sleeve 0.45 + 0.33 = 0.78 against 0.70: excess 0.08, carried by BTC (the perp's base asset)
    assert result.targets == pytest.approx({"BTC": 0.37, "ETH": 0.33, "ALTS": 0.15, "STABLE": 0.15})
    assert result.instruments == {"BTC": "perp", "ETH": "perp", "ALTS": "spot"}
    assert result.hedges == {"BTC": "BTC/USDT:USDT", "ETH": "BTC/USDT:USDT"}
    assert "excess +8.00 %" in result.notes[0]
    assert "(counted in BTC)" in result.notes[0]


def test_core_satellite_carrier_may_be_the_class_whose_hedge_is_the_index(
    make_policy: PolicyFactory, valuation_of: ValuationFactory
) -> None:
    classes: list[dict[str, Any]] = [
        {"name": "BTC", "assets": ["BTC"], "target": 0.40, "band": 0.04},
        {"name": "ETH", "assets": ["ETH"], "target": 0.30, "band": 0.03, "hedge": "MAJORS/USDT:USDT"},
        {"name": "ALTS", "assets": ["SOL", "XRP"], "target": 0.15, "band_relative": 0.2},
        {"name": "STABLE", "assets": ["USDT"], "target": 0.15, "band": 0.03, "cash": True},
    ]
    strategy = {
        "kind": "core-satellite",
        "core": ["BTC", "ETH"],
        "satellite": ["ALTS"],
        "index_hedge": "MAJORS/USDT:USDT",
    }
    policy = make_policy(classes, strategy=strategy)
    weights = {"BTC": 0.36, "ETH": 0.28, "ALTS": 0.20, "STABLE": 0.16}
    result = build_target_model(policy).targets(valuation_of(weights), NO_STATE)
    # sleeve 0.64 against 0.70: excess -0.06, so ETH (the carrier) aims at 0.28 + 0.06
    assert result.targets == pytest.approx({"BTC": 0.36, "ETH": 0.34, "ALTS": 0.15, "STABLE": 0.15})
    assert result.hedges == {"BTC": "MAJORS/USDT:USDT", "ETH": "MAJORS/USDT:USDT"}


def test_core_satellite_is_quiet_once_the_sleeve_is_hedged(make_policy: PolicyFactory) -> None:
    """After the hedge is on, the next valuation targets the same weights: nothing flips back."""
    policy = _core_satellite(make_policy)
    portfolio = Portfolio(
        base_currency="USDT",
        spot=(
            SpotHolding("BTC", 0.45),
            SpotHolding("ETH", 11.0),
            SpotHolding("SOL", 100.0),
            SpotHolding("USDT", 12_000.0),
        ),
        derivatives=(DerivativePosition(parse_symbol("BTC/USDT:USDT"), -0.08, 100_000.0),),
    )
    market = MarketSnapshot(
        timestamp=datetime(2026, 11, 21, tzinfo=UTC),
        prices={"BTC": 100_000.0, "ETH": 3_000.0, "SOL": 100.0, "XRP": 1.0, "USDT": 1.0, "USDC": 1.0},
        derivatives={"BTC/USDT:USDT": DerivativeQuote(mark=100_000.0)},
    )
    valuation = valuate(portfolio, market, policy.asset_classes())
    assert valuation.equity == pytest.approx(100_000.0)
    assert valuation.weights["BTC"] == pytest.approx(0.37)
    result = build_target_model(policy).targets(valuation, NO_STATE)
    assert result.targets["BTC"] == pytest.approx(0.37)
    assert result.targets["ETH"] == pytest.approx(0.33)
    assert result.targets["ALTS"] == pytest.approx(0.15)
    bands = class_bands(policy.asset_classes(), result.targets, None, {})
    decision = ThresholdTrigger().check(valuation, bands, TriggerContext(market.timestamp))
    # only the satellite (10 % vs 15 % +/- 3 %) and the cash class (20 % vs 15 % +/- 3 %) are out
    assert decision.breached == ("ALTS", "STABLE")


def test_core_satellite_refuses_a_hedge_outside_the_core(
    make_policy: PolicyFactory, valuation_of: ValuationFactory
) -> None:
    # the policy's validation rejects this; the model refuses it too when built by hand
    strategy = CoreSatelliteStrategy(
        kind="core-satellite", core=["BTC", "ETH"], satellite=["ALTS"], index_hedge="SOL/USDT:USDT"
    )
    model = CoreSatelliteTargets(make_policy().asset_classes(), strategy)
    with pytest.raises(ValueError, match="counts toward no core class"):
        model.targets(valuation_of(WEIGHTS), NO_STATE)


def test_delta_target_sets_deltas_and_trades_perps(make_policy: PolicyFactory, valuation_of: ValuationFactory) -> None:
    policy = make_policy(strategy={"kind": "delta-target", "deltas": {"BTC": 0.0, "ETH": -0.1}})
    model = build_target_model(policy)
    assert isinstance(model, DeltaTargets)
    result = model.targets(valuation_of(WEIGHTS), NO_STATE)
    assert result.targets == pytest.approx({"BTC": 0.0, "ETH": -0.1, "ALTS": 0.15, "STABLE": 0.95})
    assert result.instruments == {"BTC": "perp", "ETH": "perp"}
    assert result.notes == ("BTC net delta goal +0.00% of equity", "ETH net delta goal -10.00% of equity")


def test_factory_picks_the_model_by_kind(make_policy: PolicyFactory) -> None:
    cppi = build_target_model(make_policy(strategy={"kind": "cppi", "multiplier": 3, "floor": 0.8}))
    assert isinstance(cppi, CppiTargets)
    assert cppi.max_leverage == pytest.approx(3.0)
    beta = build_target_model(make_policy(strategy={"kind": "beta-neutral", "long": "ALTS", "short": "BTC"}))
    assert isinstance(beta, BetaNeutralTargets)
