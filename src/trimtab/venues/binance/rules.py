"""Binance's rules: client ids of 36 characters of ``[.A-Z:/a-z0-9_-]``, one ccxt class per wallet."""

from __future__ import annotations

import re

from trimtab.venues.exchange_rules import ExchangeRules


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
)
