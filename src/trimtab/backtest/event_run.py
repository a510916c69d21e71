"""The event engine's run: the planner bar after bar on a simulated account (:mod:`trimtab.backtest.engine`
gives its semantics and chooses it when the Numba fast path cannot run a policy).

Kept apart from :func:`~trimtab.backtest.engine.run_backtest` so that a run on the fast path never imports
the session, the planner, the guards and the simulated account.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from trimtab.backtest.flows import flow_event, schedule_flows
from trimtab.backtest.metrics import RunTotals
from trimtab.backtest.replay import Replay, buy_and_hold, rolling_volatility
from trimtab.backtest.result import BacktestResult, Benchmark, Curves, Lazy
from trimtab.backtest.risk import RiskCurves, spot_gross_leverage
from trimtab.backtest.snapshots import SnapshotBuilder
from trimtab.backtest.trades import TradeRecorder
from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.lots import LotBook
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Plan
from trimtab.feed.table import NS_PER_SECOND, to_ns
from trimtab.planner.tax import SpotFill
from trimtab.policy.estimation import PriceWindow
from trimtab.policy.ranges import RollingRanges
from trimtab.session import Decision, GuardSettings, RebalancingSession, SessionState
from trimtab.valuation.valuate import valuate
from trimtab.venues.simulation.fees import Liquidity
from trimtab.venues.simulation.models import RealityModels
from trimtab.venues.simulation.slippage import BarConditions

Progress = Callable[[int, int], None]
IMPACT_VOL_LOOKBACK = timedelta(days=30)


class EventRun:
    """One event-driven run; the state the planner does not keep lives here."""

    def __init__(
        self,
        replay: Replay,
        capital: float,
        models: RealityModels,
        progress: Progress | None,
        guards: GuardSettings | None = None,
    ) -> None:
        from trimtab.venues.simulation.account import SimulatedAccount

        self.replay = replay
        self.policy = replay.policy
        self.capital = capital
        self.models = models
        self.progress = progress
        self.base = replay.base_currency
        self.account = SimulatedAccount(self.base, models, {self.base: capital})
        self.builder = SnapshotBuilder(replay)
        n_bars, n_classes = replay.times.shape[0], len(replay.classes)
        self.equity = np.zeros(n_bars)
        self.weights = np.zeros((n_bars, n_classes))
        self.lower = np.zeros((n_bars, n_classes))
        self.upper = np.zeros((n_bars, n_classes))
        self.targets = np.zeros((n_bars, n_classes))
        self.fees = np.zeros(n_bars)
        self.slippage = np.zeros(n_bars)
        self.funding = np.zeros(n_bars)
        self.risk = RiskCurves.empty(n_bars)
        self._cash_index = next((i for i, c in enumerate(replay.classes) if c.cash), -1)
        self.trades = TradeRecorder()
        self.events: list[dict[str, Any]] = []
        self.rebalance_bars: list[int] = []
        self.traded_notional = 0.0
        self.liquidations = 0
        self.session = RebalancingSession(self.policy, guards)
        self.funding_by_hedge: dict[str, float] = {}
        self._close_seconds: np.ndarray | None = None
        self._firsts: list[int] = []
        self._rows: list[int] = []
        self._columns: list[int] | slice = []
        self._ranges: RollingRanges | None = None
        self._impact_vol: np.ndarray | None = None
        self.initial_cash = capital
        self.initial_amounts = np.zeros(len(replay.assets))
        self.funding_gap_bars = 0
        self._in_gap: set[str] = set()
        self.flows = np.zeros(n_bars)
        self._scheduled, skipped = schedule_flows(self.policy, replay.times)
        self.flows_skipped = len(skipped)
        self.events.extend(skipped)

    # -- per-bar inputs -------------------------------------------------------------------------------

    def _bar_conditions(self, bar: int, asset: str) -> BarConditions:
        """Volume and one-bar volatility of ``asset`` at the bar, for volume-dependent slippage."""
        if self.models.slippage.constant or asset not in self.replay.history.assets:
            return BarConditions()
        history = self.replay.history
        if self._impact_vol is None:
            self._impact_vol = rolling_volatility(
                history.close, history.timestamps, IMPACT_VOL_LOOKBACK, self.replay.periods_per_year
            )
        row, column = self.replay.rows[bar], history.index_of(asset)
        volume = float(history.volume[row, column] * history.close[row, column])
        sigma = float(self._impact_vol[row, column]) / math.sqrt(self.replay.periods_per_year)
        return BarConditions(volume_quote=volume, sigma_bar=sigma)

    def _window(self, bar: int) -> PriceWindow | None:
        """The closes within the session's history before and at the bar (the bars before ``start`` count)."""
        horizon = self.session.history
        if horizon is None:
            return None
        history = self.replay.history
        if self._close_seconds is None:
            self._close_seconds = (history.timestamps + history.bar_seconds * NS_PER_SECOND) / NS_PER_SECOND
            columns = [history.index_of(a) for a in self.replay.assets]
            # the policy's assets side by side in the history: a view of the rows, no copy
            adjacent = columns == list(range(columns[0], columns[0] + len(columns))) if columns else False
            self._columns = slice(columns[0], columns[-1] + 1) if adjacent else columns
            # the lows and highs over a lookback, for every row at once: the guard's ceiling is a lookup per bar
            self._ranges = RollingRanges(self._close_seconds, history.close[:, self._columns])
            # each row's first row within the horizon, for every row at once
            starts = self._close_seconds - horizon.total_seconds()
            self._firsts = self._close_seconds.searchsorted(starts, "left").tolist()
            self._rows = self.replay.rows.tolist()
        row = self._rows[bar]
        first = self._firsts[row]
        prices = history.close[first : row + 1, self._columns]
        ranges = partial(self._ranges.at, row) if self._ranges is not None else None
        return PriceWindow(self._close_seconds[first : row + 1], self.replay.assets, prices, ranges)

    # -- the loop ---------------------------------------------------------------------------------------

    def run(self) -> BacktestResult:
        n_bars = self.replay.times.shape[0]
        step = max(n_bars // 100, 1)
        for bar in range(n_bars):
            if bar == 0:
                self._initial_purchase()
            self._bar(bar)
            if self.progress is not None and (bar % step == 0 or bar == n_bars - 1):
                self.progress(bar + 1, n_bars)
        return self._result()

    def _initial_purchase(self) -> None:
        snapshot = self.builder.snapshot(0)
        values = self.replay.initial_values(self.capital)
        lots = LotBook()
        for index, asset in enumerate(self.replay.assets):
            if values[index] <= 0.0:
                continue
            reference = snapshot.prices[asset]
            fill = self._fill(
                0,
                self.replay.class_names[self.replay.class_of[index]],
                f"{asset}/{self.base}",
                float(values[index]) / reference,
                reference,
                asset,
                count=False,
            )
            if fill is not None:
                lots = lots.buy(asset, fill.signed_amount, fill.price, snapshot.timestamp)
        self.rebalance_bars.append(0)
        now = snapshot.timestamp
        self.session.state = SessionState(now, now, peak_equity=self.capital, initial_equity=self.capital, lots=lots)
        self.initial_cash = self.account.cash
        self.initial_amounts = np.array([self.account.balances.get(a, 0.0) for a in self.replay.assets])

    def _held_instruments(self) -> list[Any]:
        return [p.instrument for p in self.account.positions.values()]

    def _bar(self, bar: int) -> None:
        """Settle funding and liquidations since the last bar, then plan and trade at this bar's close.

        At bar 0 the initial purchase has just bought the policy's targets spot; the plan then opens what
        a target model asks beyond them (a beta-neutral short leg, a delta target), as the live loop's first
        cycle would. Those orders complete the initial allocation: they are neither turnover nor a rebalance.
        """
        times = self.replay.times
        if bar > 0:
            self._settle_funding(bar, int(times[bar - 1]), int(times[bar]))
            self._settle_expiries(bar)
            self._liquidate(bar)
            self._apply_flows(bar)
        snapshot = self.builder.snapshot(bar, self._held_instruments())
        decision = self.session.decide(self.account.to_portfolio(), snapshot, window=self._window(bar))
        fills: list[SpotFill] = []
        for trade in decision.trades:
            asset = parse_symbol(trade.symbol).base
            fill = self._fill(bar, trade.class_name, trade.symbol, trade.signed_amount(), trade.price, asset, bar > 0)
            if fill is not None:
                fills.append(fill)
        traded = bool(decision.trades)
        self._note(bar, decision)
        if bar > 0 and traded and decision.triggered and decision.flow == 0.0:
            self.rebalance_bars.append(bar)  # a steered cash flow trades, but is no rebalance of the trigger
        equity = self._record(bar, snapshot, decision.plan, traded or bar == 0)
        self.session.close(
            decision, carried_out=True, equity_after=equity, held=self.account.positions.values(), fills=fills
        )

    def _apply_flows(self, bar: int) -> None:
        """The schedule's deposits and withdrawals due at this close reach the account; the session steers them."""
        for index, flow in self._scheduled.get(bar, ()):
            equity = math.inf
            if flow.amount < 0.0:
                snapshot = self.builder.snapshot(bar, self._held_instruments())
                equity = valuate(self.account.to_portfolio(), snapshot, self.replay.classes).equity
            self.events.append(flow_event(index, flow, bar, self.replay.moment(bar), self.base, equity))
            self.account.deposit(self.base, flow.amount)
            self.session.add_flow(flow.amount)
            self.flows[bar] += flow.amount

    def _note(self, bar: int, decision: Decision) -> None:
        """Every decision of the session as an event; a plan that traded carries its notes."""
        for note in decision.notes:
            if note.kind in ("trigger", "idle") and (bar == 0 or (not decision.trades and note.kind == "trigger")):
                continue  # at the first close the plan completes the initial allocation; it is no rebalance
            event: dict[str, Any] = {"kind": note.kind, "timestamp": _iso(decision.now), "reason": note.reason}
            event["bar"] = bar
            if note.kind == "trigger" and decision.plan.notes:
                event["notes"] = list(decision.plan.notes)
            self.events.append(event)

    def _fill(
        self, bar: int, class_name: str, symbol: str, signed: float, reference: float, asset: str, count: bool = True
    ) -> SpotFill | None:
        """Fill one order on the simulated account and log it; a spot fill is returned for the tax lots."""
        instrument = parse_symbol(symbol)
        leverage = self.policy.rebalance.hedge_leverage
        maker = self.models.backtest_fill is Liquidity.MAKER
        report = self.account.fill(
            symbol,
            signed,
            reference,
            bar=self._bar_conditions(bar, asset),
            leverage=leverage,
            liquidity=self.models.backtest_fill,
            # A maker order rests at the reference price: it pays no spread and no impact.
            slippage_fraction=0.0 if maker else None,
        )
        if count:
            self.traded_notional += report.notional
        self.trades.add(
            int(self.replay.times[bar]),
            (class_name, symbol, instrument.kind.value),
            report.amount if report.side == "buy" else -report.amount,
            report.price,
            report.notional,
            report.fee,
            report.slippage,
        )
        if instrument.kind is not InstrumentKind.SPOT or report.amount <= 0.0:
            return None
        return SpotFill(asset, report.amount if report.side == "buy" else -report.amount, report.price)

    def _settle_funding(self, bar: int, after: int, until: int) -> None:
        gap = False
        for symbol, position in list(self.account.positions.items()):
            if position.instrument.kind is not InstrumentKind.PERP:
                continue
            if not self.builder.funding_covers(position.instrument.base, after, until):
                gap = True
                if symbol not in self._in_gap:
                    self._in_gap.add(symbol)
                    self.events.append(
                        {
                            "kind": "funding_gap",
                            "timestamp": _iso(self.replay.moment(bar)),
                            "bar": bar,
                            "symbol": symbol,
                            "reason": f"no funding history for {symbol} from here: its funding counts as zero",
                        }
                    )
            else:
                self._in_gap.discard(symbol)
            for _stamp, rate, mark in self.builder.funding_between(position.instrument.base, after, until):
                price = mark if mark is not None else self.builder.mark(bar, position.instrument)
                paid = self.account.funding_paid
                self.account.accrue_funding(symbol, rate, price)
                self.funding_by_hedge[symbol] = (
                    self.funding_by_hedge.get(symbol, 0.0) + self.account.funding_paid - paid
                )
        if gap:
            self.funding_gap_bars += 1

    def _settle_expiries(self, bar: int) -> None:
        """Settle the futures and options that expired by this close, at the underlying's price at expiry."""
        history = self.replay.history
        for settlement in self.account.settle_expired(
            self.replay.moment(bar), lambda instrument, at: history.close_at(instrument.base, to_ns(at))
        ):
            self.events.append(
                {"kind": "settlement", "timestamp": _iso(self.replay.moment(bar)), "bar": bar, **settlement.to_dict()}
            )

    def _liquidate(self, bar: int) -> None:
        adverse = {
            symbol: self.builder.adverse_prices(bar, position.instrument)
            for symbol, position in self.account.positions.items()
            if position.instrument.kind in (InstrumentKind.PERP, InstrumentKind.FUTURE)
        }
        if not adverse:
            return
        # Liquidation prices from the account model at this bar's marks: the run's account is the contract's
        # default (unified, cross), so its base-currency balance and the positions' PnL margin every position.
        market = self.builder.snapshot(bar, self._held_instruments())
        for liquidation in self.account.check_liquidations(adverse, market):
            self.liquidations += 1
            self.events.append(
                {
                    "kind": "liquidation",
                    "timestamp": _iso(self.replay.moment(bar)),
                    "bar": bar,
                    **asdict(liquidation),  # the same fields a paper run journals
                }
            )

    def _record(self, bar: int, snapshot: MarketSnapshot, plan: Plan | None, traded: bool) -> float:
        """Record the bar after its trades (the plan's own valuation when nothing traded); returns its equity."""
        if plan is not None:
            for index, report in enumerate(plan.classes):
                self.weights[bar, index] = report.weight
                self.lower[bar, index] = report.lower
                self.upper[bar, index] = report.upper
                self.targets[bar, index] = report.target
            equity = plan.equity
        else:
            half = self.replay.half_widths
            self.targets[bar] = self.replay.targets
            self.lower[bar] = self.replay.targets - half
            self.upper[bar] = self.replay.targets + half
        if traded or plan is None or self.account.positions:
            valuation = valuate(self.account.to_portfolio(), snapshot, self.replay.classes)
            equity = valuation.equity
            for index, exposure in enumerate(valuation.classes):
                self.weights[bar, index] = exposure.weight
            self.risk.gross_leverage[bar] = valuation.gross_leverage
            distance = valuation.min_liquidation_distance
            self.risk.min_liquidation_distance[bar] = np.nan if distance is None else distance
        else:
            self.risk.gross_leverage[bar] = spot_gross_leverage(self.weights[bar], self._cash_index)
        self.equity[bar] = equity
        self.fees[bar] = self.account.fees_paid
        self.slippage[bar] = self.account.slippage_paid
        self.funding[bar] = self.account.funding_paid
        return float(equity)

    def _result(self) -> BacktestResult:
        replay = self.replay
        last = replay.moment(replay.times.shape[0] - 1)
        end = _iso(last)
        for symbol, paid in sorted(self.funding_by_hedge.items()):
            # Funding paid (> 0) or received (< 0) per hedge over the run: the figures behind the total.
            self.events.append({"kind": "hedge_funding", "timestamp": end, "symbol": symbol, "funding": paid})
        state = self.session.state
        for symbol, hold in sorted(state.measured_hold_days(last).items()):
            # The notional-weighted holding time of each symbol's hedges (the open one up to the end) and the entry
            # notional they opened: what a funding horizon of "auto" measures.
            opened = state.holds[symbol].opened
            self.events.append(
                {"kind": "hedge_hold", "timestamp": end, "symbol": symbol, "hold_days": hold, "opened": opened}
            )
        totals = RunTotals(
            rebalances=len([b for b in self.rebalance_bars if b > 0]),
            traded_notional=self.traded_notional,
            fees=self.account.fees_paid,
            slippage=self.account.slippage_paid,
            funding=self.account.funding_paid,
            liquidations=self.liquidations,
            initial_cost=float(self.fees[0] + self.slippage[0]),
            funding_gap_bars=self.funding_gap_bars,
        )
        bench_totals = RunTotals(fees=float(self.fees[0]), slippage=float(self.slippage[0]))
        amounts, cash = self.initial_amounts, self.initial_cash
        return BacktestResult(
            timestamps=replay.times,
            class_names=replay.class_names,
            rebalance_times=replay.times[np.array(self.rebalance_bars, dtype=np.int64)],
            trades=self.trades.log(),
            events=self.events,
            used_fast_path=False,
            config_hash=self.policy.config_hash(),
            base_currency=self.base,
            curves=Curves(
                self.equity, self.weights, self.lower, self.upper, self.targets, self.fees, self.slippage, self.funding
            ),
            benchmark=Lazy(lambda: Benchmark(*buy_and_hold(replay, amounts, cash))),
            capital=self.capital,
            totals=totals,
            benchmark_totals=bench_totals,
            tax_rules=self.policy.tax_rules(),
            band_tolerance=self.policy.costs.taker_fee + self.policy.costs.slippage,
            replay=replay,
            flows=self.flows if self.policy.cash_flows else None,
            risk=self.risk,
        )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
