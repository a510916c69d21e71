"""What the rebalancing session costs on top of the planner: a ratio measured in one run.

Every clock drives :class:`trimtab.session.RebalancingSession`, which plans with
:func:`trimtab.planner.plan_outcome` and then runs its guards (the deleveraging ladder and the funding monitor
value the book again when it holds derivatives) and moves its state. This benchmark times, on the same
inputs and in the same process:

* ``plan``: ``plan_outcome`` alone, as a loop without a session would call it;
* ``session``: ``session.decide`` and ``session.close``, what the backtest, paper and live loops call;

on bench_core.py's large book (200 assets, 100 derivative positions) and on a spot book of 4 classes, each
call at a freshly moved snapshot, and prints the median of each and their ratio.

Run ``.venv/bin/python benchmarks/bench_session.py [--repeat N]``; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import build_book, build_policy, median_seconds, moved_markets

from trimtab.domain import MarketSnapshot, Portfolio
from trimtab.planner import PlanContext, plan_outcome
from trimtab.policy.config import Policy
from trimtab.session import RebalancingSession


def _spot_book(portfolio: Portfolio, market: MarketSnapshot) -> Portfolio:
    return Portfolio(portfolio.base_currency, portfolio.spot, ())


def measure(policy: Policy, portfolio: Portfolio, markets: list[MarketSnapshot], repeat: int) -> tuple[float, float]:
    """Median seconds of the planner alone and of the session's decide + close, on the same snapshots."""
    session = RebalancingSession(policy)
    context = PlanContext()

    def plan(i: int) -> object:
        return plan_outcome(portfolio, markets[i % len(markets)], policy, context)

    def decide(i: int) -> object:
        decision = session.decide(portfolio, markets[i % len(markets)])
        return session.close(decision, carried_out=True, equity_after=decision.plan.equity, held=())

    plan(0), decide(0)  # warm caches (the policy's classes, the target model)
    # CPU seconds: on a busy machine they are the steadier figure.
    return median_seconds(plan, repeat).cpu, median_seconds(decide, repeat).cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args(argv)
    portfolio, market, classes = build_book()
    markets = moved_markets(market, 16)
    spot_book = _spot_book(portfolio, market)
    cases = (
        ("spot policy, spot book", build_policy(classes, "spot"), spot_book),
        ("spot policy, 100 derivatives", build_policy(classes, "spot"), portfolio),
        ("perp policy, 100 derivatives", build_policy(classes, "perp"), portfolio),
    )
    print(f"{'case':<32}{'plan':>12}{'session':>12}{'ratio':>8}")
    for name, policy, book in cases:
        plan, session = measure(policy, book, markets, args.repeat)
        print(f"{name:<32}{plan * 1e3:>10.2f}ms{session * 1e3:>10.2f}ms{session / plan:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
