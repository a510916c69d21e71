"""Band-edge goals that land inside their bands after the trades' fees and slippage.

Every expected value is the closed form of the contract's rule, worked by hand: a class of value ``V``
sold by ``x`` at a cost rate ``r`` (paid from cash) out of equity ``E`` weighs ``(V - x) / (E - r x)``
afterwards, so reaching an upper edge ``u`` needs ``x = (V - u E) / (1 - u r)``; a buy to a lower edge
``l`` needs ``x = (l E - V) / (1 + l r)``.
"""

from __future__ import annotations

import pytest

from trimtab.planner.goals import compute_goals
from trimtab.policy.bands import Band

BANDS = {
    "BTC": Band(0.40, 0.04),
    "ETH": Band(0.30, 0.03),
    "ALTS": Band(0.15, 0.02),
    "STABLE": Band(0.15, 0.03),
}
RATE = 0.0015  # a 0.10 % taker fee and 5 bps of slippage
RATES = dict.fromkeys(BANDS, RATE)


def test_a_sale_to_the_upper_edge_is_sized_to_land_on_it_after_costs() -> None:
    # The README's example: BTC 46.4 % of 100,000, band 36-44 %. Selling 2,400 would leave 44,000 of
    # 99,996.40 (44.0016 %); the sale that lands on 44 % is 2,400 / (1 - 0.44 x 0.0015) = 2,401.5850.
    current = {"BTC": 0.464, "ETH": 0.27, "ALTS": 0.13, "STABLE": 0.136}
    goals = compute_goals(current, BANDS, "STABLE", "all", "band-edge", cost_rates=RATES)
    sale = 2400.0 / (1.0 - 0.44 * RATE)
    assert sale == pytest.approx(2401.5850, abs=1e-4)
    assert goals.goals["BTC"] == pytest.approx((46_400.0 - sale) / 100_000.0, abs=1e-15)
    assert (46_400.0 - sale) / (100_000.0 - RATE * sale) == pytest.approx(0.44, abs=1e-15)
    # ETH and ALTS sit on their lower edges; the sale's cost lifts them inside, so they stay put.
    assert goals.moving == ("BTC",)


def test_without_costs_the_sale_stops_at_the_edge_at_the_pre_trade_equity() -> None:
    current = {"BTC": 0.464, "ETH": 0.27, "ALTS": 0.13, "STABLE": 0.136}
    goals = compute_goals(current, BANDS, "STABLE", "all", "band-edge")
    assert goals.goals["BTC"] == 0.44


def test_a_buy_to_the_lower_edge_is_sized_to_land_on_it_after_costs() -> None:
    # BTC 35.5 % of 100,000 (band 36-44 %): x = (36,000 - 35,500) / (1 + 0.36 x 0.0015) = 499.7301.
    current = {"BTC": 0.355, "ETH": 0.32, "ALTS": 0.16, "STABLE": 0.165}
    goals = compute_goals(current, BANDS, "STABLE", "breached", "band-edge", cost_rates=RATES)
    buy = 500.0 / (1.0 + 0.36 * RATE)
    assert buy == pytest.approx(499.7301, abs=1e-4)
    assert goals.goals["BTC"] == pytest.approx((35_500.0 + buy) / 100_000.0, abs=1e-15)
    assert (35_500.0 + buy) / (100_000.0 - RATE * buy) == pytest.approx(0.36, abs=1e-15)
    assert goals.moving == ("BTC",)


def test_the_cash_shortfall_spread_leaves_cash_on_its_floor_after_costs() -> None:
    # With c the cost over equity, a class's weight after the trades is its goal over (1 - c), so ALTS
    # (20 %) clamps to 17 % (1 - c) and BTC, on its upper edge, to 44 % (1 - c); cash (6 %) is short of its
    # floor, and the three classes give an equal share d each (all have room). Cash after the trades is
    # (1 - 0.44 (1 - c) - 0.30 - 0.17 (1 - c) + 3d - c) / (1 - c), which is 12 % when 3d = 0.03 + 0.27 c;
    # the trades are 0.44 c + d, d and 0.03 + 0.17 c + d, so c = r (0.06 + 0.88 c) = 0.06 r / (1 - 0.88 r).
    current = {"BTC": 0.44, "ETH": 0.30, "ALTS": 0.20, "STABLE": 0.06}
    goals = compute_goals(current, BANDS, "STABLE", "all", "band-edge", cost_rates=RATES)
    cost = 0.06 * RATE / (1.0 - 0.88 * RATE)
    share = (0.03 + 0.27 * cost) / 3.0
    assert goals.goals["BTC"] == pytest.approx(0.44 * (1.0 - cost) - share, abs=1e-15)
    assert goals.goals["ETH"] == pytest.approx(0.30 - share, abs=1e-15)
    assert goals.goals["ALTS"] == pytest.approx(0.17 * (1.0 - cost) - share, abs=1e-15)
    assert (goals.goals["STABLE"] - cost) / (1.0 - cost) == pytest.approx(0.12, abs=1e-14)
