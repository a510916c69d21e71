"""``[costs] funding_horizon_days`` through ``trimtab plan``: a number is used as is, ``"auto"`` is estimated.

The contract: ``auto`` prices a hedge's funding "over its expected holding time, ``funding_horizon_days``, or
estimated by trimtab from the class's drift when that key is ``"auto"``". Without a session's measured holding
time the estimate is the mean time a driftless random walk of the class's weight (annual volatility
``sigma_w`` = the class's volatility x its target) takes to leave its band ``+/- h`` from the centre:
``h^2 / sigma_w^2`` years (Brownian motion's exit time from ``(-h, h)``). The figures are worked by hand.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from trimtab.testing.cli import run_cli
from trimtab.testing.plan_inputs import BTC_AND_CASH, HEDGED_HALVES, btc_market, run_plan, write_plan_inputs

POLICY = (
    HEDGED_HALVES
    + """
[trigger]
kind = "threshold"

[rebalance]
instrument = "auto"

[costs]
taker_fee = 0.0010
slippage_bps = 5.0
funding_horizon_days = {horizon}
"""
)


def _plan(folder: Path, horizon: str, market: dict[str, Any]) -> tuple[int, str, str]:
    write_plan_inputs(folder, BTC_AND_CASH, POLICY.format(horizon=horizon), market)
    done = run_plan(folder, "--format", "json")
    return done.returncode, done.stdout, done.stderr


def _notes(folder: Path, horizon: str, market: dict[str, Any]) -> list[str]:
    code, out, err = _plan(folder, horizon, market)
    assert code == 0, err
    notes: list[str] = json.loads(out)["notes"]
    return notes


def test_auto_estimates_the_horizon_from_the_drift_across_the_band(tmp_path: Path) -> None:
    # h = 0.05, sigma_w = 0.50 x 0.5 = 0.25: 0.05^2 / 0.25^2 = 0.04 years = 14.6 days. BTC is 58 % of 100 000:
    # 8 000 to shed; the short hedge receives 0.01 % every 8 hours, 8 000 x 0.0003 x 14.6 = 35.04.
    notes = _notes(tmp_path, '"auto"', btc_market(volatility={"BTC": 0.5}))
    [horizon] = [n for n in notes if n.startswith("funding horizon of BTC:")]
    assert horizon.startswith("funding horizon of BTC: 14.6 days, estimated from its drift")
    [choice] = [n for n in notes if n.startswith("auto: BTC")]
    assert "funding -35.04 over 14.6 days" in choice


def test_auto_without_volatility_falls_back_to_a_week_and_says_so(tmp_path: Path) -> None:
    notes = _notes(tmp_path, '"auto"', btc_market())
    assert "funding horizon of BTC: 7 days, no volatility for BTC: the 7-day fallback" in notes
    [choice] = [n for n in notes if n.startswith("auto: BTC")]
    assert "funding -16.80 over 7 days" in choice  # 8 000 x 0.0003 x 7


def test_a_number_is_the_horizon_whatever_the_volatility(tmp_path: Path) -> None:
    notes = _notes(tmp_path, "30", btc_market(volatility={"BTC": 0.5}))
    assert not any(n.startswith("funding horizon of") for n in notes)
    [choice] = [n for n in notes if n.startswith("auto: BTC")]
    assert "funding -72.00 over 30 days" in choice  # 8 000 x 0.0003 x 30


def test_a_horizon_that_is_neither_a_number_nor_auto_is_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    code, out, err = _plan(tmp_path, '"week"', btc_market())
    assert code == 2 and out == ""
    assert err.startswith("policy.toml: costs.funding_horizon_days: ") and len(err.strip().splitlines()) == 1


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_adaptive_example_estimates_ten_days_for_both_hedged_classes(tmp_path: Path) -> None:
    # Adaptive bands: h = band x vol / 0.60, so h / sigma_w = (band / 0.60) / target for both hedged classes:
    # BTC (0.04 / 0.60) / 0.40 = ETH (0.03 / 0.60) / 0.30 = 1/6, and (1/6)^2 years = 365 / 36 = 10.14 days.
    for name in ("portfolio.toml", "policy-adaptive.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    done = run_cli(
        "plan", "--portfolio", "portfolio.toml", "--policy", "policy-adaptive.toml", "--market", "market.json",
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    notes: list[str] = json.loads(done.stdout)["notes"]
    for name in ("BTC", "ETH"):
        assert any(n.startswith(f"funding horizon of {name}: 10.1 days, estimated from its drift") for n in notes)
    assert any(n.startswith("auto: BTC uses BTC/USDT:USDT") and "over 10.1 days" in n for n in notes)
