"""A paper run: its prices (a fixed snapshot, replayed history or an exchange's live tickers), its clock and
its simulated venue (one account, or a book of the accounts a portfolio declares)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from trimtab.app.clocks import SnapshotClock, VirtualClock, wall_clock
from trimtab.app.live_prices import LiveFeed
from trimtab.app.live_venues import venue_settings
from trimtab.app.loop import RunLoop
from trimtab.app.paper_events import liquidation_recorder, settlement_recorder
from trimtab.app.run_setup import REPLAY_AT, Run, RunSetup, wall_sleep
from trimtab.app.setup_checks import check_paper_source
from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.portfolio import Portfolio
from trimtab.errors import BadInputError
from trimtab.loaders.inputs import check_consistency
from trimtab.policy.config import Policy
from trimtab.session import history_needed
from trimtab.storage import Store
from trimtab.storage.journal import Journal
from trimtab.storage.state import StateStore
from trimtab.venues.paper import PAPER_ACCOUNT_KEY, FixedFeed, PaperVenue, ReplayFeed
from trimtab.venues.paper.accounts import PAPER_ACCOUNTS_KEY, build_paper_book, declared_accounts
from trimtab.venues.ports import Venue


@dataclass
class _PaperPrices:
    """Where a paper run's prices come from, and the clock that goes with them."""

    feed: FixedFeed | ReplayFeed | LiveFeed
    replay: ReplayFeed | None
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]


def build_paper_run(policy: Policy, store: Store, state: StateStore, setup: RunSetup) -> Run:
    """Wire a paper run: the first start reads ``--portfolio`` (balances and lots), a restart the stored accounts."""
    from trimtab.loaders.portfolio import load_lots

    check_paper_source(setup)
    initial = None
    lots = None
    first_start = state.get(PAPER_ACCOUNT_KEY) is None and state.get(PAPER_ACCOUNTS_KEY) is None
    if first_start:
        if setup.portfolio is None:
            raise BadInputError("--portfolio", "", "required on the first paper run (the account's balances)")
        initial, lots = load_lots(setup.portfolio)
    prices = _paper_prices(policy, state, setup, initial)
    clock, replay = prices.clock, prices.replay
    venue, book = _paper_venue(policy, store, state, prices, initial)
    loop = RunLoop(
        venue,
        store,
        policy,
        setup.config,
        clock=clock,
        sleep=prices.sleep,
        dry_run=setup.dry_run,
        approver=setup.approver,
        stopping=setup.stopping,
        # the book's accounts, so the plan margins each account and moves collateral between them
        accounts=tuple(declared_accounts(state, initial)) if book else (),
    )
    if replay is not None and loop.estimator.horizon is not None:
        loop.estimator.seed(_bars_before(replay, loop.estimator.horizon))
    if lots is not None:
        from trimtab.app.lots import seed_lots

        seed_lots(store, lots, clock())
    return Run(loop, venue, replay, clock, state)


def _paper_prices(policy: Policy, state: StateStore, setup: RunSetup, initial: Portfolio | None) -> _PaperPrices:
    """The feed and clock of ``--prices`` (live tickers, wall clock), ``--market`` (a fixed snapshot, its own
    clock) or ``--data`` (replayed history, the bar's clock); a first start's portfolio must fit the prices."""
    from trimtab.loaders.market import load_market

    if setup.prices is not None:
        live = _live_feed(policy, setup)
        if initial is not None:
            _check_fits(initial, policy, setup, live.snapshot(), f"{setup.prices} tickers")
        return _PaperPrices(live, None, wall_clock, wall_sleep(setup))
    if setup.market is not None:
        market = load_market(setup.market)
        if initial is not None:
            _check_fits(initial, policy, setup, market, setup.market.name)
        snapshot = SnapshotClock(market.timestamp, state)
        return _PaperPrices(FixedFeed(market), None, snapshot, snapshot.sleep)
    assert setup.data is not None
    replay = _replay(policy, state, setup.data, setup.at, held_symbols(state, initial))
    virtual = VirtualClock(lambda: replay.snapshot().timestamp)
    return _PaperPrices(replay, replay, virtual, virtual.sleep)


def _check_fits(initial: Portfolio, policy: Policy, setup: RunSetup, market: MarketSnapshot, source: str) -> None:
    """The first start's portfolio, the policy and the prices must agree (the checks of ``trimtab plan``)."""
    name = setup.portfolio.name if setup.portfolio else "portfolio"
    check_consistency(initial, policy, market, name, "policy", source)


def _paper_venue(
    policy: Policy, store: Store, state: StateStore, prices: _PaperPrices, initial: Portfolio | None
) -> tuple[Venue, bool]:
    """The simulated venue, and whether it is a book of accounts (a portfolio that declares its accounts
    trades as a book of paper accounts, as a live run does) rather than one account."""
    from trimtab.venues.simulation import RealityModels

    models = RealityModels.from_costs(policy.costs)
    recorder = settlement_recorder(Journal(store))
    liquidated = liquidation_recorder(Journal(store))
    book = build_paper_book(
        prices.feed,
        base_currency=policy.base_currency,
        models=models,
        store=state,
        initial=initial,
        clock=prices.clock,
        on_settlement=recorder,
        on_liquidation=liquidated,
    )
    if book is not None:
        return book, True
    venue = PaperVenue(
        prices.feed,
        base_currency=policy.base_currency,
        models=models,
        store=state,
        initial=initial,
        clock=prices.clock,
        on_settlement=recorder,
        on_liquidation=liquidated,
    )
    return venue, False


def _live_feed(policy: Policy, setup: RunSetup) -> LiveFeed:
    """The paper venue's feed from ``--prices``: the exchange's public tickers (``--venue-config`` settings)."""
    from trimtab.feed.snapshot import public_exchange

    return LiveFeed(public_exchange(setup.prices or "", venue_settings(setup) or {}), policy, wall_clock)


def _bars_before(feed: ReplayFeed, horizon: timedelta) -> list[tuple[datetime, dict[str, float]]]:
    """The closes of the bars before the feed's current one, within ``horizon``: the history a backtest has."""
    now = feed.close_time()
    rows = []
    for index in range(feed.index - 1, -1, -1):
        when = feed.close_time(index)
        if when < now - horizon:
            break
        prices = {asset: float(feed.history.close[index, column]) for column, asset in enumerate(feed.history.assets)}
        rows.append((when, prices))
    return rows[::-1]


def held_symbols(state: StateStore, initial: Portfolio | None) -> tuple[str, ...]:
    """The derivatives a paper account holds: the first start's portfolio, else the stored accounts."""
    if initial is not None:
        return tuple(dict.fromkeys(p.symbol for p in initial.derivatives))
    documents = [state.get(PAPER_ACCOUNT_KEY)]
    for account in state.get(PAPER_ACCOUNTS_KEY) or []:
        documents.append(state.get(f"paper_account:{account['name']}"))
    return tuple(dict.fromkeys(s for d in documents if d for s in d.get("positions", {})))


def _replay(
    policy: Policy, state: StateStore, data: Path, at: datetime | None, held: tuple[str, ...] = ()
) -> ReplayFeed:
    from trimtab.backtest.replay import SECONDS_PER_YEAR, rolling_volatility
    from trimtab.feed.history import load_history

    if not data.is_dir():
        raise BadInputError("--data", "", f"{data} is not a folder")
    base = policy.base_currency
    assets = [a for c in policy.classes for a in c.assets if a != base]
    perps = tuple(c.hedge for c in policy.classes if c.hedge)
    # Adaptive bands and target models estimate from the bars before the first one replayed too, as a
    # backtest does from its history.
    horizon = history_needed(policy)
    first = at - horizon if horizon is not None and at is not None else at
    history = load_history(data, assets, quote=base, start=first)
    feed = ReplayFeed(history, tuple(dict.fromkeys((*perps, *held))), start=at)
    if any(parse_symbol(s).kind is InstrumentKind.OPTION for s in held):
        # Options are marked as the backtest marks them: DVOL, else 30-day realised volatility.
        feed.option_volatility = rolling_volatility(
            history.close, history.timestamps, timedelta(days=30), SECONDS_PER_YEAR / history.bar_seconds
        )
    stored = state.get(REPLAY_AT)
    if stored:
        # A restarted replay goes on after the last bar it processed.
        feed.seek_close(datetime.fromisoformat(stored))
        if not feed.advance():
            raise BadInputError("--data", "", f"the replay already reached the last bar ({stored})")
    return feed
