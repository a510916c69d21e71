"""Binance's rules: client ids of 36 characters of ``[.A-Z:/a-z0-9_-]``, one ccxt class per wallet.

An IP that keeps sending after 429s is banned: HTTP 418 with ``Retry-After``, the seconds "until the ban is
over" (Binance's API documentation, *LIMITS*: bans grow for repeat offenders from 2 minutes to 3 days);
:func:`ip_ban` reads it (2 minutes when the header is missing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from trimtab.venues.exchange_rules import ExchangeRules

SHORTEST_BAN_SECONDS = 120.0
"""Binance's shortest IP ban (2 minutes), used when a 418 comes without ``Retry-After``."""


def ip_ban(status: int | None, headers: Mapping[str, Any]) -> float | None:
    """Seconds to send nothing after an answer: a 418's ``Retry-After`` (or 2 minutes), else None (no ban)."""
    if status != 418:
        return None
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                break
    return SHORTEST_BAN_SECONDS


def ccxt_class(kind: str, inverse: bool) -> str:
    """``binance`` for spot, ``binanceusdm`` for a derivatives account, ``binancecoinm`` for an inverse one."""
    if kind == "derivatives":
        return "binancecoinm" if inverse else "binanceusdm"
    return "binance"


def wallet(kind: str, inverse: bool) -> str:
    """ccxt's transfer name of the wallet: ``spot``, ``linear`` (USD-M) or ``inverse`` (COIN-M)."""
    if kind == "derivatives":
        return "inverse" if inverse else "linear"
    return kind


BINANCE = ExchangeRules(
    exchange="binance",
    client_id=re.compile(r"[.A-Z:/a-z0-9_-]{1,36}"),
    client_id_rule="1 to 36 characters of letters, digits and . : / _ -",
    kinds=frozenset({"spot", "derivatives", "unified"}),
    ccxt_class=ccxt_class,
    wallet=wallet,
    ip_ban=ip_ban,
)
