"""Validation of the ``[strategy]`` section: bad references give errors naming the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from trimtab.errors import BadInputError
from trimtab.loaders.policy import load_policy
from trimtab.policy.config import BetaNeutralStrategy, CppiStrategy, Policy

PolicyFactory = Callable[..., Policy]


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ({"kind": "beta-neutral", "long": "DOGE", "short": "BTC"}, "strategy.long: 'DOGE' is not a class"),
        ({"kind": "beta-neutral", "long": "ALTS", "short": "STABLE"}, "strategy.short: 'STABLE' is the cash class"),
        ({"kind": "beta-neutral", "long": "BTC", "short": "ALTS"}, "strategy.short: class 'ALTS' needs a 'hedge'"),
        ({"kind": "beta-neutral", "long": "BTC", "short": "BTC"}, "long and short must be different"),
        ({"kind": "cppi", "multiplier": 3, "floor": 0.8, "risky": ["GOLD"]}, "strategy.risky: 'GOLD' is not a class"),
        ({"kind": "cppi", "multiplier": 3, "floor": 0.8, "risky": []}, "strategy.risky: must not be empty"),
        ({"kind": "delta-target", "deltas": {"SOL": 0.0}}, "strategy.deltas.SOL: 'SOL' is not a class"),
        ({"kind": "delta-target", "deltas": {"ALTS": 0.0}}, "strategy.deltas.ALTS: class 'ALTS' needs a 'hedge'"),
        (
            {"kind": "core-satellite", "core": ["BTC"], "satellite": ["ETH", "NFT"], "index_hedge": "BTC/USDT:USDT"},
            "strategy.satellite: 'NFT' is not a class",
        ),
        (
            {"kind": "core-satellite", "core": ["BTC", "ETH"], "satellite": ["ETH"], "index_hedge": "BTC/USDT:USDT"},
            "both core and satellite",
        ),
        (
            {"kind": "core-satellite", "core": ["BTC"], "satellite": ["ALTS"], "index_hedge": "ETH/USDT:USDT"},
            "strategy.index_hedge: ETH/USDT:USDT counts toward 'ETH'",
        ),
        (
            {"kind": "core-satellite", "core": ["BTC"], "satellite": ["ALTS"], "index_hedge": "DEFI/USDT:USDT"},
            "strategy.index_hedge: DEFI/USDT:USDT counts toward no class",
        ),
    ],
)
def test_bad_strategy_references_name_the_field(
    make_policy: PolicyFactory, strategy: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_policy(strategy=strategy)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "strategy",
    [
        {"kind": "cppi", "multiplier": 0, "floor": 0.8},
        {"kind": "cppi", "multiplier": 3, "floor": 1.0},
        {"kind": "beta-neutral", "long": "BTC", "short": "ETH", "beta": -1},
        {"kind": "beta-neutral", "long": "BTC", "short": "ETH", "lookback": "soon"},
        {"kind": "core-satellite", "core": ["BTC"], "satellite": ["ALTS"], "index_hedge": "BTC/USDT"},
        {"kind": "delta-target", "deltas": {}},
        {"kind": "momentum"},
    ],
)
def test_out_of_range_strategy_values_are_rejected(make_policy: PolicyFactory, strategy: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make_policy(strategy=strategy)


def test_valid_strategies_load(make_policy: PolicyFactory) -> None:
    beta = make_policy(strategy={"kind": "beta-neutral", "long": "ALTS", "short": "BTC", "lookback": "60d"})
    assert isinstance(beta.strategy, BetaNeutralStrategy)
    assert beta.strategy.beta is None
    cppi = make_policy(strategy={"kind": "cppi", "multiplier": 4, "floor": 0.75, "ratchet": True})
    assert isinstance(cppi.strategy, CppiStrategy)
    assert cppi.strategy.risky is None
    assert make_policy().strategy.kind == "fixed"


POLICY_TOML = """
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.6
band = 0.05
hedge = "BTC/USDT:USDT"

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.4
band = 0.05
cash = true

[strategy]
kind = "beta-neutral"
long = "BTC"
short = "ETH"
"""


def test_policy_file_error_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY_TOML)
    with pytest.raises(BadInputError) as caught:
        load_policy(path)
    assert str(caught.value) == "policy.toml: strategy.short: 'ETH' is not a class of this policy"
