"""Building a ccxt venue from an exchange id, keys and options."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ccxt

from trimtab.errors import BadInputError
from trimtab.venues.binance import BINANCE
from trimtab.venues.book import AccountBook, BookAccount
from trimtab.venues.bybit import BYBIT
from trimtab.venues.ccxt.credentials import Credentials
from trimtab.venues.ccxt.retry import RateLimiter, RetryPolicy
from trimtab.venues.ccxt.venue import CcxtVenue, PositionMode
from trimtab.venues.exchange_rules import ExchangeRules

#: Each exchange's rules, by the name an ``[[account]]`` gives as ``exchange``.
EXCHANGES: dict[str, ExchangeRules] = {rules.exchange: rules for rules in (BINANCE, BYBIT)}
#: The exchange of each ccxt class the rules know.
_CLASS_EXCHANGE = {"binance": "binance", "binanceusdm": "binance", "binancecoinm": "binance", "bybit": "bybit"}


def rules_for_class(exchange_id: str) -> ExchangeRules | None:
    """The rules of the exchange a ccxt class reaches (None for a class trimtab keeps no rules for)."""
    exchange = _CLASS_EXCHANGE.get(exchange_id)
    return EXCHANGES.get(exchange) if exchange else None


def build_ccxt_venue(
    exchange_id: str,
    credentials: Credentials | None = None,
    *,
    sandbox: bool = False,
    demo: bool = False,
    config: Mapping[str, Any] | None = None,
    position_mode: PositionMode = "one-way",
    margin_mode: str | None = None,
    retry: RetryPolicy | None = None,
    limiter: RateLimiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    seed: int | None = None,
) -> CcxtVenue:
    """A :class:`CcxtVenue` for a ccxt exchange id (``binance`` for spot, ``binanceusdm`` for USD-M perps).

    Parameters
    ----------
    sandbox:
        Use the exchange's testnet (``set_sandbox_mode``); testnet keys differ from production keys.
    demo:
        Use the exchange's demo-trading environment where ccxt supports one (``enable_demo_trading``;
        Binance's replacement for its retired futures testnet).
    config:
        Extra ccxt constructor fields, e.g. ``urls`` (a local fake exchange) or ``timeout`` in milliseconds.
    limiter:
        The rate limiter; by default the one shared by every venue using this exchange and key. With ccxt's
        weighted limiter on (the default) it only holds requests back for the pauses the exchange asks for;
        with ``config={"enableRateLimit": False}`` it spaces requests by the exchange's ``rateLimit``.

    Raises
    ------
    BadInputError
        If ccxt has no exchange of that id.
    """
    exchange_class = getattr(ccxt, exchange_id, None)
    if not isinstance(exchange_class, type) or not issubclass(exchange_class, ccxt.Exchange):
        raise BadInputError("--venue", "", f"{exchange_id!r} is not a ccxt exchange id")
    # currencies and margin pairs come from private endpoints trimtab does not need
    rules = rules_for_class(exchange_id)
    options = {
        **dict(rules.ccxt_options if rules else {}),
        "warnOnFetchOpenOrdersWithoutSymbol": False,
        "fetchCurrencies": False,
        "fetchMargins": False,
        # sign with the exchange's clock: a skewed local clock would have signed requests refused
        "adjustForTimeDifference": True,
    }
    # ccxt's own limiter paces requests by each endpoint's weight (a leaky bucket of the exchange's rateLimit);
    # trimtab's limiter then only honours the pauses the exchange asks for (Retry-After, 429) and its bans (418, 403).
    settings: dict[str, Any] = {"enableRateLimit": True, "timeout": 10_000}
    settings.update(config or {})
    settings["verbose"] = False  # ccxt's verbose mode prints request headers, keys included
    settings["options"] = {**options, **dict(settings.get("options") or {})}
    if credentials is not None:
        settings.update(credentials.ccxt_config())
    exchange = exchange_class(settings)
    if sandbox:
        exchange.set_sandbox_mode(True)
    if demo:
        if not offers_demo(exchange):
            raise BadInputError("--demo", "", f"{exchange_id} has no demo-trading environment in ccxt")
        exchange.enable_demo_trading(True)
    return CcxtVenue(
        exchange,
        credentials=credentials,
        name=exchange_id,
        position_mode=position_mode,
        margin_mode=margin_mode,
        retry=retry,
        limiter=limiter,
        sleep=sleep,
        seed=seed,
        rules=rules,
    )


@dataclass(frozen=True)
class AccountConnection:
    """One account of the portfolio to connect: its name, ccxt exchange id, kind and contract type.

    ``inverse`` marks a derivatives account of inverse contracts: on Binance that is the COIN-M wallet
    (ccxt ``binancecoinm``); a Binance derivatives account is otherwise the USD-M wallet (``binanceusdm``).
    """

    name: str
    exchange: str
    kind: str
    inverse: bool = False


def ccxt_class_for(connection: AccountConnection) -> str:
    """The ccxt class that reaches the account's wallet (``binance`` spot, ``binanceusdm``, ``binancecoinm``,
    ``bybit`` for a Bybit unified account); an exchange trimtab keeps no rules for is its own ccxt id."""
    rules = EXCHANGES.get(connection.exchange)
    return rules.ccxt_class(connection.kind, connection.inverse) if rules else connection.exchange


def wallet_of(connection: AccountConnection) -> str:
    """ccxt's transfer name of the account's wallet (``spot``, ``linear``, ``inverse``, ``unified``)."""
    rules = EXCHANGES.get(connection.exchange)
    if rules is None:
        return "spot" if connection.kind == "spot" else "unified" if connection.kind == "unified" else "linear"
    return rules.wallet(connection.kind, connection.inverse)


def offers_demo(exchange: Any) -> bool:
    """Whether ccxt knows a demo-trading environment for ``exchange`` (every class has the method; few the URLs)."""
    return callable(getattr(exchange, "enable_demo_trading", None)) and "demo" in (exchange.urls or {})


def build_ccxt_book(
    name: str,
    connections: Sequence[AccountConnection],
    credentials_for: Callable[[str], Credentials | None],
    *,
    sandbox: bool = False,
    demo: bool = False,
    config_for: Callable[[str], Mapping[str, Any] | None] = lambda ccxt_class: None,
    retry: RetryPolicy | None = None,
    seed: int | None = None,
) -> AccountBook:
    """One ccxt connection per account, as one :class:`~trimtab.venues.book.AccountBook`.

    ``credentials_for(exchange)`` gives the keys of an exchange (Binance's one key pair serves its spot,
    USD-M and COIN-M wallets); ``config_for(ccxt_class)`` extra ccxt settings per class (e.g. ``urls``).
    """
    accounts = []
    for connection in connections:
        rules = EXCHANGES.get(connection.exchange)
        if rules is not None:
            rules.check_kind(connection.name, connection.kind)
        cls = ccxt_class_for(connection)
        venue = build_ccxt_venue(
            cls,
            credentials_for(connection.exchange),
            sandbox=sandbox,
            demo=demo,
            config=config_for(cls),
            retry=retry,
            seed=seed,
        )
        venue.name = connection.name
        accounts.append(BookAccount(connection.name, connection.exchange, wallet_of(connection), venue))
    return AccountBook(name, accounts)
