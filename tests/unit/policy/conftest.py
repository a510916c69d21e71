"""Small hand-made valuations and policies for the policy layer's tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from trimtab.policy.config import Policy
from trimtab.valuation.model import ClassExposure, Valuation

T0 = datetime(2026, 11, 21, tzinfo=UTC)

ValuationFactory = Callable[..., Valuation]
PolicyFactory = Callable[..., Policy]


def _valuation(weights: Mapping[str, float], equity: float = 100_000.0, cash: str = "STABLE") -> Valuation:
    classes = tuple(
        ClassExposure(
            name=name,
            spot_value=weight * equity,
            derivative_notional=0.0,
            net_exposure=weight * equity,
            weight=weight,
            cash=name == cash,
        )
        for name, weight in weights.items()
    )
    return Valuation(
        base_currency="USDT",
        timestamp=T0,
        equity=equity,
        spot_values={},
        asset_exposure={},
        classes=classes,
        positions=(),
        gross_exposure=equity,
        net_exposure=equity,
        gross_leverage=1.0,
        net_leverage=1.0,
        initial_margin=0.0,
        maintenance_margin=0.0,
        free_collateral=weights.get(cash, 0.0) * equity,
        unrealised_pnl=0.0,
        funding_per_day=0.0,
    )


def _policy(classes: list[dict[str, Any]] | None = None, **sections: Any) -> Policy:
    """A policy of BTC 40 % / ETH 30 % / ALTS 15 % / STABLE 15 % unless ``classes`` is given."""
    if classes is None:
        classes = [
            {"name": "BTC", "assets": ["BTC"], "target": 0.40, "band": 0.04, "hedge": "BTC/USDT:USDT"},
            {"name": "ETH", "assets": ["ETH"], "target": 0.30, "band": 0.03, "hedge": "ETH/USDT:USDT"},
            {"name": "ALTS", "assets": ["SOL", "XRP"], "target": 0.15, "band_relative": 0.2},
            {"name": "STABLE", "assets": ["USDT", "USDC"], "target": 0.15, "band": 0.03, "cash": True},
        ]
    return Policy.model_validate({"base_currency": "USDT", "class": classes, **sections})


@pytest.fixture(scope="session")
def valuation_of() -> ValuationFactory:
    """Build a valuation from class weights (the cash class is ``STABLE`` unless told)."""
    return _valuation


@pytest.fixture(scope="session")
def make_policy() -> PolicyFactory:
    """Build a validated policy; keyword arguments become top-level sections (``strategy={...}``)."""
    return _policy
