"""Building a ccxt venue from an exchange id, keys and options."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import ccxt

from trimtab.errors import BadInputError
from trimtab.venues.ccxt.credentials import Credentials
from trimtab.venues.ccxt.retry import RateLimiter, RetryPolicy
from trimtab.venues.ccxt.venue import CcxtVenue, PositionMode


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
        The rate limiter; by default the one shared by every venue using this exchange and key, spacing
        requests by the exchange's ``rateLimit``.

    Raises
    ------
    BadInputError
        If ccxt has no exchange of that id.
    """
    exchange_class = getattr(ccxt, exchange_id, None)
    if not isinstance(exchange_class, type) or not issubclass(exchange_class, ccxt.Exchange):
        raise BadInputError("--venue", "", f"{exchange_id!r} is not a ccxt exchange id")
    # currencies and margin pairs come from private endpoints trimtab does not need
    options = {
        "warnOnFetchOpenOrdersWithoutSymbol": False,
        "fetchCurrencies": False,
        "fetchMargins": False,
        # sign with the exchange's clock: a skewed local clock would have signed requests refused
        "adjustForTimeDifference": True,
    }
    settings: dict[str, Any] = {"enableRateLimit": False, "timeout": 10_000}  # our limiter paces requests
    settings.update(config or {})
    settings["verbose"] = False  # ccxt's verbose mode prints request headers, keys included
    settings["options"] = {**options, **dict(settings.get("options") or {})}
    if credentials is not None:
        settings.update(credentials.ccxt_config())
    exchange = exchange_class(settings)
    if sandbox:
        exchange.set_sandbox_mode(True)
    if demo:
        if not callable(getattr(exchange, "enable_demo_trading", None)):
            raise BadInputError("--venue", "", f"{exchange_id} has no demo-trading environment in ccxt")
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
    )
