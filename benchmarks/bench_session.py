"""What the rebalancing session costs on top of the planner, like for like: ratios measured in one run.

Every clock drives :class:`trimtab.session.RebalancingSession`: it keeps the state around the planner, plans
with :func:`trimtab.planner.plan_outcome`, runs its guards (the margin fallback, the deleveraging ladder, the
funding monitor) and moves its state. The reference is the planner alone, as a loop without a session would
call it. The two are compared only on inputs where the guards check everything and change nothing, so that
both make the same decisions; the benchmark asserts that they do (the same orders, the same equity), so a
ratio is what the session's bookkeeping and the guards' checks cost, never different work.

1. **Planner calls** on bench_core.py's book (200 assets; with or without its 100 derivative positions), each
   call at a freshly moved snapshot: ``plan_outcome`` alone against ``session.decide`` + ``session.close``.
   The book's funding rates are scaled to a tenth (no hedge pays more funding than a spot round trip) and its
   margin accounts hold enough collateral for the perp policy's hedges, so no guard acts.
2. **Event-engine backtests** of a hedged policy (BTC 30 %, ETH 20 %, perpetual hedges at 1x, band-edge) on the
   bundled daily bars, 2024-2025, with the funding rates set to zero so that the funding monitor keeps every
   hedge: the engine driving the session (with all its guards, without the liquidation buffer, without it and
   the funding monitor) against the same engine driving the planner alone (a stand-in with the session's
   interface that keeps only the trigger's two times), the runs taken in turns.

Run ``.venv/bin/python benchmarks/bench_session.py [--repeat N] [--runs N]``; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import build_book, build_policy, moved_markets

from trimtab.app.run_setup import Run
from trimtab.backtest.event_run import EventRun
from trimtab.backtest.replay import prepare
from trimtab.domain import DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding
from trimtab.feed import MarketHistory, load_history
from trimtab.feed.history import FundingSeries
from trimtab.planner import PlanContext, plan_outcome
from trimtab.planner.tax import SpotFill
from trimtab.policy.config import Policy
from trimtab.policy.estimation import PriceWindow
from trimtab.session import Decision, GuardSettings, Note, RebalancingSession, SessionState
from trimtab.testing.paper_replay import start_like_backtest
from trimtab.venues.simulation.models import RealityModels

DATA = Path(__file__).resolve().parents[1] / "data" / "market"


# -- 1. planner calls ---------------------------------------------------------------------------------------------


def quiet_book(portfolio: Portfolio, market: MarketSnapshot) -> tuple[Portfolio, MarketSnapshot]:
    """The book with funding at a tenth of its rates and 5 million more USDT of collateral: no guard acts."""
    quotes = {
        s: DerivativeQuote(q.mark, q.funding_rate / 10.0, q.funding_interval_hours, q.iv)
        for s, q in market.derivatives.items()
    }
    cash = SpotHolding("USDT", 5_000_000.0, "binance")
    book = Portfolio(portfolio.base_currency, (*portfolio.spot, cash), portfolio.derivatives, portfolio.accounts)
    return book, replace(market, derivatives=quotes)


def _orders(trades: Iterable[Any]) -> list[tuple[str, str, float]]:
    return [(t.symbol, t.side.value, round(t.amount, 12)) for t in trades]


def measure_calls(
    policy: Policy, portfolio: Portfolio, markets: list[MarketSnapshot], repeat: int
) -> tuple[float, float]:
    """Median CPU seconds of the planner alone and of the session's decide + close, on the same snapshots."""
    session = RebalancingSession(policy)
    context = PlanContext()

    def plan(i: int) -> Any:
        return plan_outcome(portfolio, markets[i % len(markets)], policy, context)

    def decide(i: int) -> Decision:
        decision = session.decide(portfolio, markets[i % len(markets)])
        session.close(decision, carried_out=True, equity_after=decision.plan.equity, held=())
        return decision

    for i in range(len(markets)):  # the same decisions, or the ratio would compare different work
        decision, alone = decide(i), plan(i).plan
        if _orders(decision.trades) != _orders(alone.trades) or decision.reducing_only:
            raise SystemExit(f"the guards changed the decision at snapshot {i}: {[n.reason for n in decision.notes]}")
    return interleaved(plan, decide, repeat)


def interleaved(
    reference: Callable[[int], object], candidate: Callable[[int], object], repeat: int
) -> tuple[float, float]:
    """Median CPU seconds of ``reference(i)`` and ``candidate(i)``, timed in turns (the order swapped every other
    time) so that both see the same load on a shared machine."""
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(repeat):
        pair = ((0, reference), (1, candidate)) if i % 2 == 0 else ((1, candidate), (0, reference))
        for slot, call in pair:
            start = time.process_time()
            call(i)
            times[slot].append(time.process_time() - start)
    return statistics.median(times[0]), statistics.median(times[1])


# -- 2. event-engine backtests ------------------------------------------------------------------------------------


class PlannerAlone:
    """The reference loop's decision step: ``plan_outcome`` with the trigger's two times, no session.

    It has the session's interface (``decide``, ``close``, ``estimate``, ``context``, ``history``, ``state``) so
    the engine and the run loop can drive it; it keeps no estimates or tax lots, runs no guard, needs no price
    window, and records what any loop records: the trigger, and a trigger that traded nothing.
    """

    history = None

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.state = SessionState()

    def decide(
        self,
        portfolio: Portfolio,
        market: MarketSnapshot,
        *,
        window: PriceWindow | None = None,
        volatility: Any = None,
    ) -> Decision:
        outcome = plan_outcome(portfolio, market, self.policy, self.context())
        plan = outcome.plan
        trades = tuple(plan.trades) if plan.triggered else ()
        notes: tuple[Note, ...] = ()
        if plan.triggered:
            notes = (Note("trigger", plan.trigger_reason or "the trigger fired"),)
            if not trades:
                why = "; ".join(plan.notes) if plan.notes else "every class is already at its goal"
                notes += (Note("idle", f"the trigger fired but nothing was traded: {why}"),)
        return Decision(market.timestamp, plan, trades, outcome.checked, notes=notes)

    def estimate(self, window: PriceWindow | None, market: MarketSnapshot) -> tuple[None, dict[str, str | None]]:
        return None, {}

    def context(self, volatility: Any = None, betas: Any = None, window: PriceWindow | None = None) -> PlanContext:
        return PlanContext(last_rebalance=self.state.last_rebalance, last_check=self.state.last_check)

    def close(
        self,
        decision: Decision,
        *,
        carried_out: bool,
        equity_after: float,
        held: Iterable[object],
        fills: Sequence[SpotFill] = (),
    ) -> SessionState:
        moved = {"last_check": decision.now} if decision.checked and carried_out else {}
        if decision.triggered and carried_out:
            moved["last_rebalance"] = decision.now
        self.state = replace(self.state, **moved)
        return self.state


def hedged_policy() -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.3, "band": 0.05, "hedge": "BTC/USDT:USDT"},
                {"name": "ETH", "assets": ["ETH"], "target": 0.2, "band": 0.05, "hedge": "ETH/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
            "rebalance": {"instrument": "perp", "hedge_leverage": 1, "max_leverage": 3, "to": "band-edge"},
            "costs": {"taker_fee": 0.001, "slippage_bps": 5.0},
        }
    )


def quiet_history() -> MarketHistory:
    """BTC and ETH daily bars 2024-2025 with their perpetuals' funding stamps at a rate of zero."""
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC)
    history = load_history(DATA, ["BTC", "ETH", "USDT"], timeframe="1d", start=start, end=end, use_cache=False)
    funding = history.funding  # read on first use; its series replaced in place
    funding.update({k: FundingSeries(v.times, np.zeros_like(v.rates)) for k, v in funding.items()})
    return history


VARIANTS: tuple[tuple[str, GuardSettings | None], ...] = (
    ("the session, its guards on (defaults)", GuardSettings()),
    ("the session, no liquidation buffer", GuardSettings(liquidation_buffer=0.0)),
    ("the session, no buffer, no funding monitor", GuardSettings(liquidation_buffer=0.0, funding_switch=False)),
    ("the planner alone (the reference)", None),
)
"""What each backtest runs: the session with fewer guards each time, then the planner alone."""


def backtest_once(policy: Policy, history: MarketHistory, guards: GuardSettings | None) -> tuple[float, dict[str, Any]]:
    """One event-engine run (the session with ``guards``, or the planner alone when None): its CPU seconds and
    its result's figures."""
    models = RealityModels.from_costs(policy.costs)
    start = time.process_time()
    run = EventRun(prepare(policy, history, None, None), 100_000.0, models, None, guards)
    if guards is None:
        run.session = PlannerAlone(policy)  # type: ignore[assignment]
    result = run.run()
    seconds = time.process_time() - start
    guarded = sorted({e["kind"] for e in result.events} - {"trigger", "idle", "hedge_funding", "hedge_hold"})
    metrics = result.metrics
    return seconds, {"equity": metrics["final_equity"], "rebalances": metrics["rebalances"], "guards": guarded}


def measure_backtests(runs: int) -> tuple[list[float], dict[str, Any]]:
    """Median CPU seconds of each of :data:`VARIANTS`, run in turns (the order reversed every other round)."""
    policy, history = hedged_policy(), quiet_history()
    figures = [backtest_once(policy, history, guards)[1] for _, guards in VARIANTS]
    if any(f["guards"] or f["equity"] != figures[-1]["equity"] for f in figures):
        raise SystemExit(f"not the same decisions: {figures}")
    seconds: list[list[float]] = [[] for _ in VARIANTS]
    for i in range(runs):
        order = list(enumerate(VARIANTS))
        for k, (_, guards) in order if i % 2 == 0 else reversed(order):
            seconds[k].append(backtest_once(policy, history, guards)[0])
    return [statistics.median(s) for s in seconds], figures[0]


# -- 3. paper cycles -------------------------------------------------------------------------------------------

PAPER_START = datetime(2024, 1, 1, tzinfo=UTC)
PAPER_FILES = ("spot_BTC-USDT_1d", "spot_ETH-USDT_1d", "perp_BTC-USDT_1h", "perp_ETH-USDT_1h")
PAPER_FILES += ("perp_BTC-USDT_mark_8h", "perp_ETH-USDT_mark_8h")


def quiet_data(folder: Path) -> Path:
    """The bundled BTC and ETH daily closes, perpetuals and marks in ``folder``, with their funding stamps at a
    rate of zero."""
    data = folder / "data"
    data.mkdir()
    for name in PAPER_FILES:
        shutil.copy(DATA / f"{name}.csv.gz", data)
    for asset in ("BTC", "ETH"):
        name = f"perp_{asset}-USDT_funding_8h.csv.gz"
        with gzip.open(DATA / name, "rt", newline="") as source, gzip.open(data / name, "wt", newline="") as out:
            rows = csv.reader(source)
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(next(rows))
            writer.writerows([row[0], "0"] for row in rows)
    return data


def paper_pair(policy: Policy, data: Path, folder: Path) -> tuple[Run, Run]:
    """Two paper replays of ``data`` from the backtest's initial allocation, each on its own journal: the loop
    driving the session, and the same loop driving the planner alone (gathering no price window)."""
    history = load_history(data, ["BTC", "ETH"])
    runs = []
    for name in ("session", "alone"):
        (folder / name).mkdir()
        runs.append(start_like_backtest(policy, history, data, folder / name, start=PAPER_START)[0])
    reference = runs[1].loop
    reference.session = PlannerAlone(policy)  # type: ignore[assignment]
    reference.estimator.horizon = None  # only the session estimates from a window of prices
    return runs[0], runs[1]


def _cycle_record(result: Any, run: Run) -> tuple[Any, ...]:
    """What a cycle did: its orders, the venue's equity after it and the decisions it journaled."""
    orders = [(o["symbol"], o["side"], o["filled"], o["average_price"]) for o in result.orders]
    return orders, run.loop.venue.equity(), result.decisions, result.paused, result.halted  # type: ignore[attr-defined]


def measure_paper(policy: Policy, cycles: int, replays: int) -> tuple[float, float, int]:
    """Median CPU seconds of ``cycles`` paper cycles with the session and with the planner alone (each replay's
    cycles timed in turns, the order swapped every bar), and how many of them traded."""
    seconds: tuple[list[float], list[float]] = ([], [])
    traded = 0
    with tempfile.TemporaryDirectory() as tmp:
        data = quiet_data(Path(tmp))
        for replay in range(replays):
            folder = Path(tmp) / f"replay{replay}"
            folder.mkdir()
            pair = paper_pair(policy, data, folder)
            spent, traded = [0.0, 0.0], 0
            for bar in range(cycles):
                records = [(), ()]
                for slot in (0, 1) if bar % 2 == 0 else (1, 0):
                    start = time.process_time()
                    result = pair[slot].loop.cycle()
                    spent[slot] += time.process_time() - start
                    records[slot] = _cycle_record(result, pair[slot])
                if records[0] != records[1]:
                    raise SystemExit(f"not the same decisions at paper cycle {bar}: {records}")
                traded += bool(records[0][0])
                if bar < cycles - 1 and not (pair[0].advance() and pair[1].advance()):
                    raise SystemExit(f"the data ends after {bar + 1} cycles")
            for slot in (0, 1):
                seconds[slot].append(spent[slot])
    return statistics.median(seconds[0]), statistics.median(seconds[1]), traded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=60, help="timed planner calls per case")
    parser.add_argument("--runs", type=int, default=10, help="timed backtests of each kind")
    parser.add_argument("--cycles", type=int, default=120, help="paper cycles per replay")
    parser.add_argument("--replays", type=int, default=3, help="paper replays of each kind")
    args = parser.parse_args(argv)
    portfolio, market, classes = build_book()
    book, market = quiet_book(portfolio, market)
    markets = moved_markets(market, 16)
    spot_book = Portfolio(book.base_currency, book.spot, ())
    cases = (
        ("spot policy, spot book", build_policy(classes, "spot"), spot_book),
        ("spot policy, 100 derivatives", build_policy(classes, "spot"), book),
        ("perp policy, 100 derivatives", build_policy(classes, "perp"), book),
        ("auto policy, 100 derivatives", build_policy(classes, "auto"), book),
    )
    print(f"{'planner calls (CPU, median)':<40}{'plan':>12}{'session':>12}{'ratio':>8}")
    for name, policy, holdings in cases:
        plan, session = measure_calls(policy, holdings, markets, args.repeat)
        print(f"{name:<40}{plan * 1e3:>10.2f}ms{session * 1e3:>10.2f}ms{session / plan:>8.2f}")
    medians, figures = measure_backtests(args.runs)
    reference = medians[-1]
    print(f"event-engine backtest, daily 2024-2025, {figures['rebalances']} rebalances (CPU, median)")
    for (name, _), seconds in zip(VARIANTS, medians, strict=True):
        per_bar = (seconds - reference) / 731 * 1e6
        print(f"  {name:<46}{seconds:>8.3f}s{seconds / reference:>8.2f}{per_bar:>9.1f} us/bar")
    session, alone, traded = measure_paper(hedged_policy(), args.cycles, args.replays)
    per_cycle = (session - alone) / args.cycles * 1e6
    print(f"paper cycles from {PAPER_START:%Y-%m-%d}, {args.cycles} a replay, {traded} trading (CPU, median)")
    print(
        f"  {'the session, its guards on (defaults)':<46}{session / args.cycles * 1e3:>7.2f}ms{session / alone:>8.2f}"
    )
    print(f"  {'the planner alone (the reference)':<46}{alone / args.cycles * 1e3:>7.2f}ms{1.0:>8.2f}")
    print(f"  the session's share: {per_cycle:.0f} us a cycle of {session / args.cycles * 1e6:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
