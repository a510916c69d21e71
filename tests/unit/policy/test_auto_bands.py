"""Bands from costs (``band = "auto"``), every width worked by hand from the contract's formula.

Costs: taker 0.1 % + 5 bp of slippage, so the round trip is c = 2 x 0.0015 = 0.003; tracking budget 2 %.
Classes: BTC 40 % (vol 0.60), ETH 25 % (vol 0.80), ALTS 20 % (SOL 1.0 and ADA 0.6, split evenly: 0.80),
all auto; CASH 15 % +/- 5 fixed. sigma_c = vol x target: 0.24, 0.20, 0.16.
(c sigma^2)^(1/3): 0.0556991, 0.0493242, 0.0425063; k = 0.02 sqrt 3 / RMS of those = 0.700233;
h = 0.0390023, 0.0345384, 0.0297643 (the RMS of h / sqrt 3 is 0.02).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from trimtab.planner.goals import compute_goals
from trimtab.policy.bands import AutoBands, Band, class_bands
from trimtab.policy.config import Policy

VOLATILITY = {"BTC": 0.60, "ETH": 0.80, "SOL": 1.0, "ADA": 0.6}
EXPECTED = {"BTC": 0.0390023090, "ETH": 0.0345384482, "ALTS": 0.0297643324}


def policy(budget: float = 0.02, cash_band: Any = 0.05, btc_band: Any = "auto") -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.40, "band": btc_band},
                {"name": "ETH", "assets": ["ETH"], "target": 0.25, "band": "auto"},
                {"name": "ALTS", "assets": ["SOL", "ADA"], "target": 0.20, "band": "auto"},
                {"name": "CASH", "assets": ["USDT"], "target": 0.15, "band": cash_band, "cash": True},
            ],
            "rebalance": {"tracking_budget": budget},
            "costs": {"taker_fee": 0.001, "slippage_bps": 5.0},
        }
    )


def bands_of(chosen: Policy, volatility: dict[str, float] = VOLATILITY) -> dict[str, Band]:
    classes = chosen.asset_classes()
    targets = {c.name: c.target for c in classes}
    return class_bands(classes, targets, None, volatility, AutoBands.from_policy(chosen))


def test_auto_half_widths_follow_the_cube_root_law_scaled_to_the_tracking_budget() -> None:
    bands = bands_of(policy())
    for name, width in EXPECTED.items():
        assert bands[name].half_width == pytest.approx(width, rel=1e-8)
    assert bands["CASH"].half_width == 0.05
    rms = math.sqrt(sum((bands[n].half_width / math.sqrt(3)) ** 2 for n in EXPECTED) / 3)
    assert rms == pytest.approx(0.02)


def test_widths_scale_with_the_cube_root_of_cost_times_variance() -> None:
    # Doubling BTC's volatility multiplies its (c sigma^2)^(1/3) by 2^(2/3) before k is chosen anew.
    bands = bands_of(policy(), {**VOLATILITY, "BTC": 1.2})
    x = {"BTC": (0.003 * 0.48**2) ** (1 / 3), "ETH": (0.003 * 0.2**2) ** (1 / 3), "ALTS": (0.003 * 0.16**2) ** (1 / 3)}
    k = 0.02 * math.sqrt(3) / math.sqrt(sum(v * v for v in x.values()) / 3)
    assert bands["BTC"].half_width == pytest.approx(k * x["BTC"])
    assert bands["BTC"].half_width / bands["ETH"].half_width == pytest.approx(x["BTC"] / x["ETH"])


def test_each_width_is_clipped_after_k_is_chosen() -> None:
    # A 20 % budget asks for widths near 0.2 sqrt 3 = 0.35: every one is clipped to 0.25.
    wide = bands_of(policy(budget=0.2))
    assert {n: wide[n].half_width for n in EXPECTED} == dict.fromkeys(EXPECTED, 0.25)
    # A near-riskless class gets the 0.2 % floor; k is still chosen over every auto class.
    calm = bands_of(policy(), {**VOLATILITY, "BTC": 1e-9})
    assert calm["BTC"].half_width == 0.002


def test_a_class_without_volatility_keeps_the_budget_width_and_takes_no_part_in_k() -> None:
    bands = bands_of(policy(), {"ETH": 0.80, "SOL": 1.0, "ADA": 0.6})
    assert bands["BTC"].half_width == pytest.approx(0.02 * math.sqrt(3))
    x = {"ETH": (0.003 * 0.2**2) ** (1 / 3), "ALTS": (0.003 * 0.16**2) ** (1 / 3)}
    k = 0.02 * math.sqrt(3) / math.sqrt(sum(v * v for v in x.values()) / 2)
    assert bands["ETH"].half_width == pytest.approx(k * x["ETH"])


def test_an_auto_cash_class_uses_its_own_assets_volatility() -> None:
    chosen = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": "auto"},
                {"name": "CASH", "assets": ["USDT", "USDC"], "target": 0.5, "band": "auto", "cash": True},
            ],
            "costs": {"taker_fee": 0.001, "slippage_bps": 5.0},
        }
    )
    bands = bands_of(chosen, {"BTC": 0.6, "USDC": 0.01})
    # The cash class's split puts half on USDT (no volatility given): its class volatility is USDC's, 0.01.
    x_btc, x_cash = (0.003 * 0.3**2) ** (1 / 3), (0.003 * 0.005**2) ** (1 / 3)
    k = 0.02 * math.sqrt(3) / math.sqrt((x_btc**2 + x_cash**2) / 2)
    assert bands["BTC"].half_width == pytest.approx(k * x_btc)
    assert bands["CASH"].half_width == pytest.approx(max(k * x_cash, 0.002))


def test_auto_classes_go_to_their_band_edge_while_fixed_ones_go_to_target() -> None:
    # BTC fixed at 40 +/- 5 and to target; ETH auto (+/- 3.45 %) at 31 %: ETH to its upper edge 28.45 %.
    chosen = policy(btc_band=0.05)
    bands = bands_of(chosen)
    weights = {"BTC": 0.47, "ETH": 0.31, "ALTS": 0.20, "CASH": 0.02}
    goals = compute_goals(weights, bands, "CASH", "all", "target", ["ETH", "ALTS"])
    assert goals.goals["BTC"] == 0.40
    assert goals.goals["ETH"] == pytest.approx(0.25 + bands["ETH"].half_width)
    assert goals.goals["ALTS"] == 0.20  # inside its band: stays
    assert goals.moving == ("BTC", "ETH")
    assert goals.goals["CASH"] == pytest.approx(1 - 0.40 - 0.25 - bands["ETH"].half_width - 0.20)


def test_auto_is_the_only_word_a_band_takes() -> None:
    with pytest.raises(ValueError, match="band"):
        policy(btc_band="wide")
    with pytest.raises(ValueError, match="between 0 and 1"):
        policy(btc_band=1.5)
