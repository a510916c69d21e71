"""`trimtab plan` under ``instrument = "auto"``: the contract's cost comparison, and the opt-in liquidation term.

The contract prices spot as fees + slippage + the sale's tax under ``[tax]``, and a hedge as fees + slippage to
open and to close plus funding over ``funding_horizon_days``. The figures below are worked out by hand from
those terms; the book is chosen so that the opt-in expected liquidation loss (``[costs] liquidation_risk``)
flips the choice.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.plan_inputs import HEDGED_HALVES, btc_market, plan_document

PORTFOLIO = """\
base_currency = "USDT"
[[spot]]
asset = "BTC"
amount = 1.0
[[spot]]
asset = "USDT"
amount = 38000.0
[[lots]]
asset = "BTC"
amount = 1.0
cost = 57000.0
acquired = 2026-10-01T00:00:00Z
"""
POLICY = (
    HEDGED_HALVES
    + """
[rebalance]
instrument = "auto"
hedge_leverage = 50
max_leverage = 60
[costs]
taker_fee = 0.001
slippage_bps = 5.0
funding_horizon_days = 7
{extra}
[tax]
method = "fifo"
short_term_rate = 0.30
long_term_rate = 0.15
"""
)
MARKET = btc_market()


def _plan(folder: Path, extra: str = "") -> dict[str, Any]:
    return plan_document(folder, PORTFOLIO, POLICY.format(extra=extra), MARKET)


# BTC is 58 000 of 96 000 (60.4 % against 50 %): 10 000 of exposure to shed, 10 000 / 58 000 BTC.
SHED = 10_000.0
SPOT_TRADING = SHED * (0.001 + 0.0005)  # 15.00
TAX = 0.30 * (58_000.0 - 57_000.0) * SHED / 58_000.0  # the short-term gain of the lot sold: 51.72
SPOT = SPOT_TRADING + TAX  # 66.72
HEDGE_TRADING = 2.0 * SPOT_TRADING  # 30.00: open and close
FUNDING = -SHED * 0.0001 * 24 / 8 * 7  # a short receives 0.01 % every 8 hours for 7 days: -21.00
HEDGE = HEDGE_TRADING + FUNDING  # 9.00


def test_auto_hedges_by_the_contracts_costs_however_close_50x_sits_to_its_isolated_liquidation(
    tmp_path: Path,
) -> None:
    assert HEDGE < SPOT
    document = _plan(tmp_path)
    (trade,) = document["trades"]
    assert (trade["instrument"], trade["side"]) == ("perp", "sell")
    assert trade["notional"] == pytest.approx(SHED, rel=1e-9)
    (note,) = [n for n in document["notes"] if n.startswith("auto: BTC")]
    assert note == (
        f"auto: BTC uses BTC/USDT:USDT: hedge cost {HEDGE:.2f} (fees and slippage to open and close "
        f"{HEDGE_TRADING:.2f}, funding {FUNDING:+.2f} over 7 days) vs spot cost {SPOT:.2f} (fees and slippage "
        f"{SPOT_TRADING:.2f}, tax {TAX:.2f}) for {SHED:.2f} of exposure"
    )
    # The unified account margins the short from its 38 000 USDT (cross): far from liquidation, within margin.
    (position,) = document["positions"]
    assert position["liquidation_distance"] > 1.0
    assert document["margin"]["ok"] is True
    assert document["costs"]["tax"] == 0.0  # nothing is sold


def test_the_opt_in_liquidation_term_prices_the_isolated_50x_hit_probability_and_flips_the_choice(
    tmp_path: Path,
) -> None:
    # At 50x a short's isolated liquidation price is x = ln((1 + 1/50) / 1.005) away in log terms; a driftless
    # walk at the assumed 80 % a year reaches it within 7 days with p = 2 Phi(-x / (0.8 sqrt(7 / 365))), and
    # costs the 0.5 % maintenance plus one order to restore the exposure: p x 10 000 x 0.65 %.
    x = math.log((1 + 1 / 50) / 1.005)
    p = 1.0 + math.erf(-x / (0.8 * math.sqrt(7 / 365)) / math.sqrt(2.0))
    loss = p * SHED * (0.005 + 0.0015)
    assert HEDGE + loss > SPOT  # 67.09 > 66.72: the term flips the choice
    document = _plan(tmp_path, "liquidation_risk = true")
    (trade,) = document["trades"]
    assert (trade["instrument"], trade["side"]) == ("spot", "sell")
    assert trade["notional"] == pytest.approx(SHED, rel=1e-9)
    assert document["costs"]["tax"] == pytest.approx(TAX, rel=1e-9)
    (note,) = [n for n in document["notes"] if n.startswith("auto: BTC")]
    assert note.startswith(f"auto: BTC uses spot: hedge cost {HEDGE:.2f}")
    assert note.endswith(
        f"; with the hedge's liquidation risk {loss:.2f} ({p:.1%} chance at 50x, assumed volatility 80%) the hedge "
        f"costs {HEDGE + loss:.2f}"
    )
