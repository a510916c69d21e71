"""A paper replay of history that starts where a backtest starts, so the two can be compared bar for bar.

The backtest buys the policy's targets with its capital at the first bar's close
(:func:`trimtab.backtest.engine.starting_point`); the paper account here starts from those holdings and the
session's state after that purchase, then runs one cycle of the real run loop per bar with market orders.
The policy's ``[[cash_flow]]`` schedule is journaled as ``trimtab deposit`` / ``withdraw`` would record it,
before the cycle of the bar at whose close the backtest applies each flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from trimtab.app.flows import record_cash_flow
from trimtab.app.loop import CycleResult
from trimtab.app.session_store import save_session_state
from trimtab.app.wiring import Run, RunSetup, build_run
from trimtab.backtest.engine import starting_point
from trimtab.backtest.result import BacktestResult
from trimtab.execution.config import ExecutionConfig
from trimtab.feed.history import MarketHistory
from trimtab.policy.config import CashFlowConfig, Policy
from trimtab.storage import Store, open_store
from trimtab.storage.journal import Journal
from trimtab.storage.state import StateStore
from trimtab.venues.paper import ReplayFeed


@dataclass
class PaperReplay:
    """What the paper run did: equity after each cycle, the cycles that traded, and its journal."""

    equity: list[float] = field(default_factory=list)
    trading_days: list[str] = field(default_factory=list)
    cycles: list[CycleResult] = field(default_factory=list)
    store: Store | None = None

    @property
    def journal(self) -> Journal:
        assert self.store is not None
        return Journal(self.store)


def _record_due_flows(
    store: Store, feed: ReplayFeed | None, pending: list[CashFlowConfig], base: str
) -> list[CashFlowConfig]:
    """Journal the policy's ``[[cash_flow]]`` entries due by this bar's close, as ``trimtab deposit`` and
    ``withdraw`` would, so that the paper run takes them in the cycle at which the backtest applies them."""
    if feed is None:
        return pending
    close = feed.snapshot().timestamp
    due = [flow for flow in pending if flow.at <= close]
    for flow in due:
        record_cash_flow(store, amount=flow.amount, base_currency=base, now=close, source="replay")
    return pending[len(due) :]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def start_like_backtest(
    policy: Policy,
    history: MarketHistory,
    data: Path,
    folder: Path,
    *,
    start: datetime,
    capital: float = 100_000.0,
    config: ExecutionConfig | None = None,
) -> tuple[Run, Store]:
    """A paper run over ``data`` at ``start`` whose account and session start from the backtest's initial
    allocation, and its journal (in ``folder``): the run :func:`replay_like_backtest` drives a cycle per bar.

    ``history`` is the history the backtest reads (for its starting point); ``data`` the folder the paper
    feed replays; ``folder`` holds the journal and the portfolio file; ``config`` the execution settings
    (market orders by default).
    """
    portfolio, state = starting_point(policy, history, capital=capital, start=start)
    lines = [f'base_currency = "{policy.base_currency}"']
    for holding in portfolio.spot:
        lines += ["[[spot]]", f'asset = "{holding.asset}"', f"amount = {holding.amount!r}"]
    (folder / "portfolio.toml").write_text("\n".join(lines) + "\n")
    store = open_store(f"sqlite:///{folder / 'paper.db'}")
    save_session_state(StateStore(store), state)
    setup = RunSetup(
        portfolio=folder / "portfolio.toml",
        data=data,
        at=start,
        config=config or ExecutionConfig(algo="market", twap_threshold=1e12),
    )
    return build_run(policy, store, setup), store


def replay_like_backtest(
    policy: Policy,
    history: MarketHistory,
    data: Path,
    folder: Path,
    *,
    start: datetime,
    bars: int,
    capital: float = 100_000.0,
    config: ExecutionConfig | None = None,
) -> PaperReplay:
    """Run ``bars`` paper cycles over ``data`` from ``start``, starting from the backtest's initial allocation
    (:func:`start_like_backtest`, whose parameters these are)."""
    run, store = start_like_backtest(policy, history, data, folder, start=start, capital=capital, config=config)
    replay = PaperReplay(store=store)
    pending = sorted(policy.cash_flows, key=lambda flow: flow.at)
    for bar in range(bars):
        pending = _record_due_flows(store, run.feed, pending, policy.base_currency)
        result = run.loop.cycle()
        replay.cycles.append(result)
        replay.equity.append(run.loop.venue.equity())  # type: ignore[attr-defined]
        if any(order["filled"] > 0 for order in result.orders):
            replay.trading_days.append(_iso(result.timestamp))
        if bar < bars - 1 and not run.advance():
            raise ValueError(f"the data ends after {bar + 1} of {bars} bars")
    return replay


def backtest_trading_days(result: BacktestResult, policy: Policy) -> list[str]:
    """The close times at which the backtest traded, its initial purchase left out (the paper starts after it).

    The purchase is the first trades of the run, one spot buy per asset the policy gives a positive share.
    """
    base = policy.base_currency
    shares = [c.target * c.weights.get(a, 0.0) for c in policy.asset_classes() for a in c.assets if a != base]
    purchases = sum(1 for share in shares if share > 0)
    trades = list(result.trades)[purchases:]
    return sorted({str(trade["timestamp"]) for trade in trades})
