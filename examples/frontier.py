"""The cost of tracking on real data: bands to target, bands to the band edge and bands from costs.

Run from the repository root: ``python examples/frontier.py``. It backtests the issue's five-class policy
(BTC 40 %, ETH 25 %, ADA/XRP/LTC 15 %, BNB 5 %, USDT 15 %; taker 0.1 % + 5 bp) on the bundled daily Binance
closes with fixed bands of several widths traded to target and to the band edge, and with ``band = "auto"``
at several tracking budgets, and prints each run's tracking error against its cost after the initial
purchase (fees and slippage of rebalancing alone). It then names the runs that no other run beats on both
(the efficient frontier) and compares the cheapest band-edge and auto runs that track at least as well as
5 % bands traded to target.

Then it runs the policies the examples lead with on their own assets (BTC 40 %, ETH 30 %, SOL and BNB 15 %,
USDT 15 %; SOL's history sets the window): ``examples/policy.toml`` as written (fixed bands traded to the band
edge) and traded to target, and ``examples/backtest/bands-from-costs.toml``, each against the same classes with
5 % bands traded to target.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from trimtab.backtest.engine import run_backtest
from trimtab.feed import load_history
from trimtab.policy.config import Policy

EXAMPLES = Path(__file__).resolve().parent
DATA = EXAMPLES.parents[0] / "data" / "market"
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
    print()
    examples()


def example_document(path: Path, **changes: Any) -> dict[str, Any]:
    """A policy file of the examples as a document; ``band`` sets every class's band, ``to`` the rebalance's."""
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    for asset_class in document["class"]:
        if "band" in changes:
            asset_class["band"] = changes["band"]
    if "to" in changes:
        document["rebalance"]["to"] = changes["to"]
    return document


def measure(document: dict[str, Any], history: Any) -> tuple[float, float]:
    """Tracking error and cost after the initial purchase of one backtest."""
    metrics = run_backtest(Policy.model_validate(document), history).metrics
    return metrics["tracking_error"], metrics["cost_after_initial"]


def examples() -> None:
    main_policy = EXAMPLES / "policy.toml"
    from_costs = EXAMPLES / "backtest" / "bands-from-costs.toml"
    document = example_document(main_policy)
    assets = sorted({asset for asset_class in document["class"] for asset in asset_class["assets"]})
    history = load_history(DATA, assets, timeframe="1d", use_cache=False)
    print(f"the examples' own assets ({', '.join(assets)}), {history.timestamps.size:,} daily bars:")
    reference_te, reference_cost = measure(example_document(main_policy, band=0.05, to="target"), history)
    print(f"{'5% bands to target':>32} {reference_te:>14.3%} {reference_cost:>10,.0f}")
    runs = {
        "examples/policy.toml": document,
        "examples/policy.toml, to target": example_document(main_policy, to="target"),
        "bands-from-costs.toml": example_document(from_costs),
    }
    for name, policy_document in runs.items():
        te, cost = measure(policy_document, history)
        verdict = "tracks at least as well" if te <= reference_te else "tracks worse"
        print(f"{name:>32} {te:>14.3%} {cost:>10,.0f}  {cost / reference_cost:.0%} of its cost, {verdict}")
    # The cheapest band-edge run that tracks as well as 5 % bands to target on these assets.
    candidates = {f"{w:.1%} to band-edge": example_document(main_policy, band=w) for w in (0.025, 0.03, 0.035)}
    for budget in (0.0125, 0.015, 0.0175):
        candidates[f"auto, budget {budget:.2%}"] = example_document(from_costs)
        candidates[f"auto, budget {budget:.2%}"]["rebalance"]["tracking_budget"] = budget
    measured = {name: measure(policy_document, history) for name, policy_document in candidates.items()}
    cost, name, te = min((cost, name, te) for name, (te, cost) in measured.items() if te <= reference_te)
    share = cost / reference_cost
    print(f"cheapest band-edge run tracking as well as 5% to target here: {name} ({te:.3%}), {share:.0%} of its cost")


if __name__ == "__main__":
    main()
