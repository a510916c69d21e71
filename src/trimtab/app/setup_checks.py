"""The checks of a run's options that need no journal, run before the journal is opened."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from trimtab.app.live_venues import credentials_for, live_accounts
from trimtab.app.run_setup import RunSetup
from trimtab.errors import BadInputError
from trimtab.loaders.inputs import check_consistency
from trimtab.policy.config import Policy


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
        _check_live_setup(setup)
        return
    check_paper_source(setup)
    from sqlalchemy.engine import make_url

    database = make_url(state_url).database if state_url.startswith("sqlite") else None
    if database and database != ":memory:" and not Path(database).exists() and setup.portfolio is None:
        raise BadInputError("--portfolio", "", "required on the first paper run (the account's balances)")
    _check_paper_files(setup, policy)


def _check_live_setup(setup: RunSetup) -> None:
    """A live venue: a ccxt exchange id, no paper inputs, ``--demo`` where it applies, keys for each exchange."""
    import ccxt

    if setup.venue not in ccxt.exchanges:
        raise BadInputError("--venue", "", f"{setup.venue!r} is neither 'paper' nor a ccxt exchange id (e.g. binance)")
    refuse_paper_inputs((("--market", setup.market), ("--data", setup.data), ("--prices", setup.prices)))
    _check_demo(setup)
    if setup.portfolio is not None:
        for connection in live_accounts(setup.portfolio)[1]:
            credentials_for(setup, connection.exchange)
        return
    credentials_for(setup)


def refuse_paper_inputs(flags: Iterable[tuple[str, object]]) -> None:
    """Refuse the first of these paper-only flags that is given, on a live venue."""
    for flag, value in flags:
        if value is not None:
            raise BadInputError(flag, "", "is for the paper venue only; a live venue's balances and prices are real")


def check_paper_source(setup: RunSetup) -> None:
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
