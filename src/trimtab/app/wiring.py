"""Building a run from its options: the journal, the venue (paper or ccxt), the feed, the clock, the loop.

Only this module (and the command line) knows concrete adapters; the loop speaks to the Venue port.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimtab.app.clocks import SnapshotClock, VirtualClock, wall_clock
from trimtab.app.lifecycle import StopSignals
from trimtab.app.live_prices import LiveFeed
from trimtab.app.loop import Approver, RunLoop
from trimtab.domain.accounts import Account
from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.portfolio import Portfolio
from trimtab.errors import BadInputError
from trimtab.execution.config import ExecutionConfig
from trimtab.loaders.inputs import check_consistency
from trimtab.policy.config import Policy
from trimtab.session import history_needed
from trimtab.storage import Store
from trimtab.storage.journal import Journal
from trimtab.storage.state import StateStore
from trimtab.venues.paper import PAPER_ACCOUNT_KEY, FixedFeed, PaperVenue, ReplayFeed
from trimtab.venues.paper.accounts import PAPER_ACCOUNTS_KEY, build_paper_book, declared_accounts
from trimtab.venues.ports import Venue

if TYPE_CHECKING:
    from trimtab.venues.ccxt import AccountConnection
from trimtab.venues.simulation import Settlement
from trimtab.venues.simulation.margin import Liquidation

REPLAY_AT = "replay_at"
"""State key: the close time of the last replayed bar, so a restarted replay goes on from the next one."""


@dataclass
class RunSetup:
    """What ``trimtab run`` needs besides the policy and the journal."""

    venue: str = "paper"
    portfolio: Path | None = None
    market: Path | None = None
    data: Path | None = None
    prices: str | None = None
    """Paper on live prices: the ccxt exchange id whose public tickers price the paper venue."""
    at: datetime | None = None
    keys: Path | None = None
    testnet: bool = False
    demo: bool = False
    """The exchange's demo-trading environment (Binance's demo accounts) instead of production."""
    venue_config: Path | None = None
    dry_run: bool = False
    approver: Approver | None = None
    config: ExecutionConfig = field(default_factory=ExecutionConfig)
    signals: StopSignals | None = None
    """SIGTERM/SIGINT turned into a stop request: no order after it, and waits within the cycle end early."""
    lease: Callable[[], str | None] | None = None
    """Why the run may not trade now as far as its journal lease goes (lost, journal replaced), or None."""

    def stopping(self) -> str | None:
        """Why no further order may leave: a stop signal or the lease; None while the run may trade."""
        if self.signals is not None and (reason := self.signals.stopping()) is not None:
            return reason
        return self.lease() if self.lease is not None else None


@dataclass
class Run:
    """A wired run: the loop, and the replay feed when history is replayed."""

    loop: RunLoop
    venue: Venue
    feed: ReplayFeed | None
    clock: Callable[[], datetime]
    state: StateStore

    def advance(self) -> bool:
        """After a cycle of a replay: remember the bar and move to the next; False at the end of the data."""
        if self.feed is None:
            return True
        self.state.set(REPLAY_AT, self.feed.snapshot().timestamp.isoformat())
        moved = self.feed.advance()
        if isinstance(self.clock, VirtualClock):
            self.clock.reset()
        return moved


def _check_demo(setup: RunSetup) -> None:
    """``--demo`` alone, and only on an exchange ccxt knows a demo-trading environment for."""
    if not setup.demo:
        return
    if setup.testnet:
        raise BadInputError("--demo", "", "give --demo or --testnet, not both")
    import ccxt

    from trimtab.venues.ccxt.factory import offers_demo

    if not offers_demo(getattr(ccxt, setup.venue)()):
        raise BadInputError("--demo", "", f"{setup.venue} has no demo-trading environment in ccxt (try --testnet)")


def check_setup(setup: RunSetup, state_url: str, policy: Policy | None = None) -> None:
    """The checks that need no journal, run before the journal is opened (bad input writes nothing).

    Raises
    ------
    BadInputError
        Paper inputs on a live venue, both or neither of ``--market`` and ``--data``, ``--at`` without
        ``--data``, a first paper run (no SQLite journal yet) without ``--portfolio``, a ``--portfolio`` or
        ``--market`` file that does not validate (or, with ``policy``, does not fit the policy), a ``--data``
        that is not a folder, or a live venue without API keys.
    """
    if setup.venue != "paper":
        import ccxt

        if setup.venue not in ccxt.exchanges:
            raise BadInputError(
                "--venue", "", f"{setup.venue!r} is neither 'paper' nor a ccxt exchange id (e.g. binance)"
            )
        for flag, value in (("--market", setup.market), ("--data", setup.data), ("--prices", setup.prices)):
            if value is not None:
                raise BadInputError(
                    flag, "", "is for the paper venue only; a live venue's balances and prices are real"
                )
        _check_demo(setup)
        if setup.portfolio is not None:
            for connection in live_accounts(setup.portfolio)[1]:
                _credentials(setup, connection.exchange)
            return
        _credentials(setup)
        return
    _check_paper_source(setup)
    from sqlalchemy.engine import make_url

    database = make_url(state_url).database if state_url.startswith("sqlite") else None
    if database and database != ":memory:" and not Path(database).exists() and setup.portfolio is None:
        raise BadInputError("--portfolio", "", "required on the first paper run (the account's balances)")
    _check_paper_files(setup, policy)


def _check_paper_source(setup: RunSetup) -> None:
    """A paper run's prices: exactly one of a fixed snapshot, a history folder or an exchange's live tickers."""
    if setup.demo or setup.testnet:
        flag = "--demo" if setup.demo else "--testnet"
        raise BadInputError(flag, "", "is for a live venue; the paper venue is simulated already")
    if sum(source is not None for source in (setup.market, setup.data, setup.prices)) != 1:
        raise BadInputError(
            "--market", "", "the paper venue needs exactly one of --market M, --data D or --prices EXCHANGE"
        )
    if setup.at is not None and setup.data is None:
        raise BadInputError("--at", "", "is for replayed history (--data D)")
    if setup.prices is not None:
        import ccxt

        if setup.prices not in ccxt.exchanges:
            raise BadInputError("--prices", "", f"{setup.prices!r} is not a ccxt exchange id (e.g. binance)")


def _check_paper_files(setup: RunSetup, policy: Policy | None) -> None:
    """Validate the paper venue's input files as :func:`build_run` will read them."""
    from trimtab.loaders.market import load_market
    from trimtab.loaders.portfolio import load_lots

    portfolio = load_lots(setup.portfolio)[0] if setup.portfolio is not None else None
    if setup.market is not None:
        market = load_market(setup.market)
        if portfolio is not None and policy is not None and setup.portfolio is not None:
            check_consistency(portfolio, policy, market, setup.portfolio.name, "policy", setup.market.name)
    if setup.data is not None and not setup.data.is_dir():
        raise BadInputError("--data", "", f"{setup.data} is not a folder")


def build_run(policy: Policy, store: Store, setup: RunSetup) -> Run:
    """Wire a run of ``policy`` on ``store``.

    Raises
    ------
    BadInputError
        For inconsistent options (paper inputs on a live venue, a missing ``--portfolio`` on a first paper
        run, unreadable files), naming the flag or file.
    """
    state = StateStore(store)
    if setup.venue == "paper":
        return _paper(policy, store, state, setup)
    for flag, value in (("--market", setup.market), ("--data", setup.data)):
        if value is not None:
            raise BadInputError(flag, "", "is for the paper venue only; a live venue's balances and prices are real")
    accounts: tuple[Account, ...] = ()
    if setup.portfolio is not None:
        accounts, connections = live_accounts(setup.portfolio)
        venue: Venue = _ccxt_book(setup, connections)
    else:
        venue = _ccxt(setup)
    loop = RunLoop(
        venue,
        store,
        policy,
        setup.config,
        clock=wall_clock,
        sleep=_wall_sleep(setup),
        dry_run=setup.dry_run,
        approver=setup.approver,
        stopping=setup.stopping,
        accounts=accounts,
        venue_liquidation=True,  # the exchange's own liquidation price takes precedence
    )
    return Run(loop, venue, None, wall_clock, state)


def _paper(policy: Policy, store: Store, state: StateStore, setup: RunSetup) -> Run:
    from trimtab.loaders.market import load_market
    from trimtab.loaders.portfolio import load_lots
    from trimtab.venues.simulation import RealityModels

    _check_paper_source(setup)
    initial = None
    lots = None
    first_start = state.get(PAPER_ACCOUNT_KEY) is None and state.get(PAPER_ACCOUNTS_KEY) is None
    if first_start:
        if setup.portfolio is None:
            raise BadInputError("--portfolio", "", "required on the first paper run (the account's balances)")
        initial, lots = load_lots(setup.portfolio)
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    feed_for_venue: FixedFeed | ReplayFeed | LiveFeed
    replay: ReplayFeed | None = None
    if setup.prices is not None:
        feed_for_venue = _live_feed(policy, setup)
        clock, sleep = wall_clock, _wall_sleep(setup)
        if initial is not None:
            check_consistency(
                initial,
                policy,
                feed_for_venue.snapshot(),
                setup.portfolio.name if setup.portfolio else "portfolio",
                "policy",
                f"{setup.prices} tickers",
            )
    elif setup.market is not None:
        market = load_market(setup.market)
        if initial is not None:
            check_consistency(
                initial,
                policy,
                market,
                setup.portfolio.name if setup.portfolio else "portfolio",
                "policy",
                setup.market.name,
            )
        feed_for_venue = FixedFeed(market)
        snapshot = SnapshotClock(market.timestamp, state)
        clock, sleep = snapshot, snapshot.sleep
    else:
        assert setup.data is not None
        replay = _replay(policy, state, setup.data, setup.at, held_symbols(state, initial))
        feed_for_venue = replay
        virtual = VirtualClock(lambda: replay.snapshot().timestamp)
        clock, sleep = virtual, virtual.sleep
    models = RealityModels.from_costs(policy.costs)
    recorder = settlement_recorder(Journal(store))
    liquidated = liquidation_recorder(Journal(store))
    # A portfolio that declares its accounts trades as a book of paper accounts, as a live run does.
    book = build_paper_book(
        feed_for_venue,
        base_currency=policy.base_currency,
        models=models,
        store=state,
        initial=initial,
        clock=clock,
        on_settlement=recorder,
        on_liquidation=liquidated,
    )
    venue: Venue = (
        book
        if book is not None
        else PaperVenue(
            feed_for_venue,
            base_currency=policy.base_currency,
            models=models,
            store=state,
            initial=initial,
            clock=clock,
            on_settlement=recorder,
            on_liquidation=liquidated,
        )
    )
    loop = RunLoop(
        venue,
        store,
        policy,
        setup.config,
        clock=clock,
        sleep=sleep,
        dry_run=setup.dry_run,
        approver=setup.approver,
        stopping=setup.stopping,
        # the book's accounts, so the plan margins each account and moves collateral between them
        accounts=tuple(declared_accounts(state, initial)) if book is not None else (),
    )
    if replay is not None and loop.estimator.horizon is not None:
        loop.estimator.seed(_bars_before(replay, loop.estimator.horizon))
    if lots is not None:
        from trimtab.app.lots import seed_lots

        seed_lots(store, lots, clock())
    return Run(loop, venue, replay, clock, state)


def _live_feed(policy: Policy, setup: RunSetup) -> LiveFeed:
    """The paper venue's feed from ``--prices``: the exchange's public tickers (``--venue-config`` settings)."""
    from trimtab.feed.snapshot import public_exchange

    return LiveFeed(public_exchange(setup.prices or "", _venue_settings(setup) or {}), policy, wall_clock)


def settlement_recorder(journal: Journal) -> Callable[[Settlement, datetime], None]:
    """Journal each expiry settlement of the paper account as a ``settlement`` decision of the cycle running.

    A replay notices an expiry at the top of the cycle of the first bar that closes after it, before the
    cycle records anything, hence the cycle after the last one recorded.
    """

    def record(settlement: Settlement, now: datetime) -> None:
        outcome = "expired worthless" if settlement.cash == 0.0 else ("received" if settlement.cash > 0 else "paid")
        if settlement.cash != 0.0:
            outcome += f" {abs(settlement.cash):.2f}"
        journal.add_decision(
            timestamp=now,
            cycle=journal.last_cycle() + 1,
            kind="settlement",
            reason=(
                f"{settlement.symbol} settled at expiry ({settlement.expired_at:%Y-%m-%d %H:%M} UTC): "
                f"{settlement.amount:g} at the underlying's {settlement.underlying_price:g}, {outcome}"
            ),
            payload=settlement.to_dict(),
        )

    return record


def liquidation_recorder(journal: Journal) -> Callable[[Liquidation, datetime], None]:
    """Journal each forced close of a paper position as a ``liquidation`` decision of the cycle running."""

    def record(liquidation: Liquidation, now: datetime) -> None:
        journal.add_decision(
            timestamp=now,
            cycle=journal.last_cycle() + 1,
            kind="liquidation",
            reason=(
                f"{liquidation.symbol} liquidated: {liquidation.amount:g} entered at {liquidation.entry_price:g} "
                f"closed at {liquidation.price:g}, realised {liquidation.realised_pnl:.2f} and {liquidation.fee:.2f} "
                "of fee"
            ),
            payload={
                "symbol": liquidation.symbol,
                "amount": liquidation.amount,
                "entry_price": liquidation.entry_price,
                "price": liquidation.price,
                "realised_pnl": liquidation.realised_pnl,
                "fee": liquidation.fee,
            },
        )

    return record


def _wall_sleep(setup: RunSetup) -> Callable[[float], None]:
    """``time.sleep``, cut short once a stop is requested (a TWAP's or a chase's wait does not hold the exit)."""
    return setup.signals.cycle_sleep if setup.signals is not None else time.sleep


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


def _credentials(setup: RunSetup, exchange: str | None = None) -> Any:
    from trimtab.venues.ccxt import load_credentials

    exchange = exchange or setup.venue
    credentials = load_credentials(exchange, setup.keys)
    if credentials is None:
        raise BadInputError(
            "--venue",
            "",
            f"no API keys for {exchange}: set TRIMTAB_{exchange.upper()}_API_KEY and "
            "_API_SECRET or give --keys FILE (trade-only keys, never withdrawal)",
        )
    return credentials


def live_accounts(path: Path) -> tuple[tuple[Account, ...], list[AccountConnection]]:
    """The ``[[account]]`` tables of a live run's ``--portfolio`` and the connection each one needs.

    Only the tables are read: a live run's balances and positions are the exchange's. A Binance
    derivatives account is the USD-M wallet unless it is coin-margined: the file holds inverse contracts on
    it, or its collateral leaves out the base currency (COIN-M).

    Raises
    ------
    BadInputError
        The file does not validate, or declares no account.
    """
    from trimtab.loaders.portfolio import load_portfolio
    from trimtab.venues.ccxt import AccountConnection

    portfolio, _ = load_portfolio(path)
    if not portfolio.accounts:
        raise BadInputError(path.name, "account", "a live run reads the portfolio's [[account]] tables; none declared")
    connections = [
        AccountConnection(
            a.name,
            a.exchange,
            a.kind.value,
            inverse=_coin_margined(a, portfolio),
        )
        for a in portfolio.accounts
    ]
    return portfolio.accounts, connections


def _coin_margined(account: Account, portfolio: Portfolio) -> bool:
    """Whether a derivatives account trades inverse contracts (Binance's COIN-M wallet): it holds some, or
    its declared collateral leaves out the base currency (a COIN-M wallet is margined in coins)."""
    if any(p.instrument.is_inverse for p in portfolio.derivatives if p.venue == account.name):
        return True
    return bool(account.collateral) and portfolio.base_currency not in account.collateral


def _venue_settings(setup: RunSetup) -> dict[str, Any] | None:
    if setup.venue_config is None:
        return None
    from trimtab.loaders.files import read_document

    # TOML or JSON by its suffix, a regular file only; errors name the format the file claims.
    return read_document(setup.venue_config)


def _ccxt_book(setup: RunSetup, connections: list[AccountConnection]) -> Venue:
    """One ccxt connection per account. ``--venue-config`` may give settings per ccxt class under
    ``"by_class"`` (e.g. each class's ``urls``), merged over the rest."""
    from trimtab.venues.ccxt import build_ccxt_book

    settings = _venue_settings(setup) or {}
    by_class = settings.pop("by_class", {})

    def config_for(ccxt_class: str) -> dict[str, Any]:
        return {**settings, **dict(by_class.get(ccxt_class) or {})}

    return build_ccxt_book(
        setup.venue,
        connections,
        lambda exchange: _credentials(setup, exchange),
        sandbox=setup.testnet,
        demo=setup.demo,
        config_for=config_for,
    )


def _ccxt(setup: RunSetup) -> Venue:
    from trimtab.venues.ccxt import build_ccxt_venue

    credentials = _credentials(setup)
    return build_ccxt_venue(
        setup.venue, credentials, sandbox=setup.testnet, demo=setup.demo, config=_venue_settings(setup)
    )
