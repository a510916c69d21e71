"""A live run's venue: its API keys, its ``[[account]]`` tables and the ccxt connection (or book of them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimtab.app.run_setup import RunSetup
from trimtab.domain.accounts import Account
from trimtab.domain.portfolio import Portfolio
from trimtab.errors import BadInputError
from trimtab.venues.ports import Venue

if TYPE_CHECKING:
    from trimtab.venues.ccxt import AccountConnection


def credentials_for(setup: RunSetup, exchange: str | None = None) -> Any:
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


def venue_settings(setup: RunSetup) -> dict[str, Any] | None:
    if setup.venue_config is None:
        return None
    from trimtab.loaders.files import read_document

    # TOML or JSON by its suffix, a regular file only; errors name the format the file claims.
    return read_document(setup.venue_config)


def build_live_book(setup: RunSetup, connections: list[AccountConnection]) -> Venue:
    """One ccxt connection per account. ``--venue-config`` may give settings per ccxt class under
    ``"by_class"`` (e.g. each class's ``urls``), merged over the rest."""
    from trimtab.venues.ccxt import build_ccxt_book

    settings = venue_settings(setup) or {}
    by_class = settings.pop("by_class", {})

    def config_for(ccxt_class: str) -> dict[str, Any]:
        return {**settings, **dict(by_class.get(ccxt_class) or {})}

    return build_ccxt_book(
        setup.venue,
        connections,
        lambda exchange: credentials_for(setup, exchange),
        sandbox=setup.testnet,
        demo=setup.demo,
        config_for=config_for,
    )


def build_live_venue(setup: RunSetup) -> Venue:
    from trimtab.venues.ccxt import build_ccxt_venue

    credentials = credentials_for(setup)
    return build_ccxt_venue(
        setup.venue, credentials, sandbox=setup.testnet, demo=setup.demo, config=venue_settings(setup)
    )
