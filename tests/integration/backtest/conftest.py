"""Shared fixtures: the bundled real market data and a policy builder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from trimtab.feed import MarketHistory, load_history
from trimtab.policy.config import Policy

DATA = Path(__file__).resolve().parents[3] / "data" / "market"


def _utc(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


@pytest.fixture(scope="session")
def load() -> Callable[..., MarketHistory]:
    """``load(assets, timeframe, start, end)`` from the bundled data, without writing a cache."""

    def _load(
        assets: list[str], timeframe: str = "1d", start: str | None = None, end: str | None = None
    ) -> MarketHistory:
        return load_history(DATA, assets, timeframe=timeframe, start=_utc(start), end=_utc(end), use_cache=False)

    return _load


def four_class_policy(**overrides: Any) -> Policy:
    """BTC 40 %, ETH 25 %, ALTS (BNB 2 : SOL 1) 20 % relative band, cash 15 %."""
    document: dict[str, Any] = {
        "base_currency": "USDT",
        "class": [
            {"name": "BTC", "assets": ["BTC"], "target": 0.40, "band": 0.05},
            {"name": "ETH", "assets": ["ETH"], "target": 0.25, "band": 0.05},
            {
                "name": "ALTS",
                "assets": ["BNB", "SOL"],
                "target": 0.20,
                "band_relative": 0.25,
                "weights": {"BNB": 2, "SOL": 1},
            },
            {"name": "CASH", "assets": ["USDT"], "target": 0.15, "band": 0.05, "cash": True},
        ],
        "costs": {"taker_fee": 0.001, "slippage_bps": 0.0},
    }
    document.update(overrides)
    return Policy.model_validate(document)


@pytest.fixture(scope="session")
def four_class() -> Callable[..., Policy]:
    """The builder of :func:`four_class_policy` (test modules cannot import conftest)."""
    return four_class_policy


@pytest.fixture(scope="session")
def majors_daily(load: Callable[..., MarketHistory]) -> MarketHistory:
    """BTC, ETH, BNB, SOL daily closes, every shared bar of the bundled files (2020-08 to 2026-02)."""
    return load(["BTC", "ETH", "BNB", "SOL", "USDT"], "1d")
