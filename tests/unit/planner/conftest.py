"""Builders shared by the planner's unit tests: policies, portfolios and snapshots in a few lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from trimtab.domain import (
    DerivativePosition,
    DerivativeQuote,
    MarketRules,
    MarketSnapshot,
    Portfolio,
    SpotHolding,
    parse_symbol,
)
from trimtab.policy.config import Policy

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def build_policy(
    classes: Sequence[Mapping[str, Any]],
    *,
    instrument: str = "spot",
    scope: str = "all",
    to: str = "target",
    min_notional: float = 10.0,
    max_leverage: float = 3.0,
    margin_buffer: float = 0.5,
    hedge_leverage: float = 1.0,
    taker_fee: float = 0.001,
    slippage_bps: float = 5.0,
    funding_horizon_days: float = 7.0,
    trigger: Mapping[str, Any] | None = None,
) -> Policy:
    """A policy from class tables and the ``[rebalance]`` / ``[costs]`` settings tests vary."""
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [dict(c) for c in classes],
            "trigger": dict(trigger or {"kind": "threshold"}),
            "rebalance": {
                "instrument": instrument,
                "scope": scope,
                "to": to,
                "min_notional": min_notional,
                "max_leverage": max_leverage,
                "margin_buffer": margin_buffer,
                "hedge_leverage": hedge_leverage,
            },
            "costs": {
                "taker_fee": taker_fee,
                "slippage_bps": slippage_bps,
                "funding_horizon_days": funding_horizon_days,
            },
        }
    )


def build_portfolio(
    spot: Mapping[str, float], derivatives: Sequence[tuple[str, float, float, float]] = ()
) -> Portfolio:
    """Spot amounts per asset; derivatives as ``(symbol, amount, entry_price, leverage)``."""
    return Portfolio(
        "USDT",
        tuple(SpotHolding(asset, amount) for asset, amount in spot.items()),
        tuple(DerivativePosition(parse_symbol(s), a, e, lev) for s, a, e, lev in derivatives),
    )


def build_market(
    prices: Mapping[str, float],
    quotes: Mapping[str, tuple[float, float]] | None = None,
    rules: Mapping[str, MarketRules] | None = None,
    volatility: Mapping[str, float] | None = None,
) -> MarketSnapshot:
    """Prices per asset (USDT = 1 added); quotes as ``symbol -> (mark, funding_rate)`` every 8 hours."""
    return MarketSnapshot(
        NOW,
        {"USDT": 1.0, **prices},
        {s: DerivativeQuote(mark, rate, 8.0) for s, (mark, rate) in (quotes or {}).items()},
        dict(volatility or {}),
        dict(rules or {}),
    )


BTC_STABLE = (
    {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05, "hedge": "BTC/USDT:USDT"},
    {"name": "STABLE", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
)

FOUR_CLASSES = (
    {"name": "BTC", "assets": ["BTC"], "target": 0.40, "band": 0.04, "hedge": "BTC/USDT:USDT"},
    {"name": "ETH", "assets": ["ETH"], "target": 0.30, "band": 0.03, "hedge": "ETH/USDT:USDT"},
    {
        "name": "ALTS",
        "assets": ["SOL", "AVAX", "LINK"],
        "target": 0.15,
        "band": 0.02,
        "hedge": "ALTS/USDT:USDT",
    },
    {"name": "STABLE", "assets": ["USDT"], "target": 0.15, "band": 0.03, "cash": True},
)


@pytest.fixture
def policy_of() -> Callable[..., Policy]:
    """:func:`build_policy`."""
    return build_policy


@pytest.fixture
def portfolio_of() -> Callable[..., Portfolio]:
    """:func:`build_portfolio`."""
    return build_portfolio


@pytest.fixture
def market_of() -> Callable[..., MarketSnapshot]:
    """:func:`build_market`."""
    return build_market


@pytest.fixture
def btc_stable() -> tuple[dict[str, Any], ...]:
    """BTC 50 % +/- 5 with a BTC perp hedge; STABLE (USDT) the cash class, 50 % +/- 5."""
    return tuple(dict(c) for c in BTC_STABLE)


@pytest.fixture
def four_classes() -> tuple[dict[str, Any], ...]:
    """BTC 40 +/- 4, ETH 30 +/- 3, ALTS (SOL, AVAX, LINK; index perp hedge) 15 +/- 2, STABLE 15 +/- 3."""
    return tuple(dict(c) for c in FOUR_CLASSES)
