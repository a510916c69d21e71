"""The cost of tracking on real data: bands to target, bands to the band edge and bands from costs.

Run from the repository root: ``python examples/frontier.py``. It backtests the issue's five-class policy
(BTC 40 %, ETH 25 %, ADA/XRP/LTC 15 %, BNB 5 %, USDT 15 %; taker 0.1 % + 5 bp) on the bundled daily Binance
closes with fixed bands of several widths traded to target and to the band edge, and with ``band = "auto"``
at several tracking budgets, and prints each run's tracking error against its cost after the initial
purchase (fees and slippage of rebalancing alone). It then names the runs that no other run beats on both
(the efficient frontier) and compares the cheapest band-edge and auto runs that track at least as well as
5 % bands traded to target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trimtab.backtest.engine import run_backtest
from trimtab.feed import load_history
from trimtab.policy.config import Policy

DATA = Path(__file__).resolve().parents[1] / "data" / "market"
ASSETS = ["BTC", "ETH", "ADA", "XRP", "LTC", "BNB"]
TARGETS = (
    ("BTC", ["BTC"], 0.40),
    ("ETH", ["ETH"], 0.25),
    ("ALTS", ["ADA", "XRP", "LTC"], 0.15),
    ("BNB", ["BNB"], 0.05),
)


def policy(band: Any, to: str, budget: float = 0.02) -> Policy:
    classes: list[dict[str, Any]] = [
        {"name": name, "assets": assets, "target": target, "band": band} for name, assets, target in TARGETS
    ]
    cash_band = 0.05 if band == "auto" else band
    classes.append({"name": "CASH", "assets": ["USDT"], "target": 0.15, "band": cash_band, "cash": True})
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": classes,
            "rebalance": {"to": to, "tracking_budget": budget, "lookback": "90d"},
            "costs": {"taker_fee": 0.001, "slippage_bps": 5.0},
        }
    )


def main() -> None:
    history = load_history(DATA, [*ASSETS, "USDT"], timeframe="1d", use_cache=False)
    runs: list[tuple[str, float, float]] = []
    for width in (0.02, 0.025, 0.03, 0.05, 0.08, 0.10):
        for to in ("target", "band-edge"):
            metrics = run_backtest(policy(width, to), history).metrics
            runs.append((f"{width:.1%} to {to}", metrics["tracking_error"], metrics["cost_after_initial"]))
    for budget in (0.01, 0.0125, 0.015, 0.02, 0.03, 0.04):
        metrics = run_backtest(policy("auto", "band-edge", budget), history).metrics
        runs.append((f"auto, budget {budget:.2%}", metrics["tracking_error"], metrics["cost_after_initial"]))
    frontier = {name for name, te, cost in runs if not any(t < te and c < cost for _, t, c in runs)}
    print(f"{'policy':>24} {'tracking error':>15} {'cost':>10}  frontier")
    for name, te, cost in sorted(runs, key=lambda run: run[1]):
        print(f"{name:>24} {te:>14.3%} {cost:>10,.0f}  {'yes' if name in frontier else ''}")
    reference_te, reference_cost = next((te, cost) for name, te, cost in runs if name == "5.0% to target")
    for kind in ("band-edge", "auto"):
        matching = [(cost, name) for name, te, cost in runs if kind in name and te <= reference_te]
        if matching:
            cost, name = min(matching)
            print(
                f"cheapest {kind} run tracking as well as 5% to target: {name}, {cost / reference_cost:.0%} of its cost"
            )


if __name__ == "__main__":
    main()
