"""Bybit's rules for a unified trading account, from Bybit's V5 API reference.

- ``orderLinkId`` (ccxt's ``clientOrderId``): up to 36 characters of letters, digits, ``-`` and ``_``.
- Linear USDT perpetuals count in the base coin (a contract is one coin, ccxt's ``contractSize`` 1), so an
  amount of 0.01 BTC goes out as ``qty`` "0.01".
- One account: spot balances and every coin's collateral are one pool (``kind = "unified"``, ccxt's
  ``unified`` wallet); the margin mode is the account's (``/v5/account/info`` ``marginMode``:
  ``REGULAR_MARGIN`` cross, ``ISOLATED_MARGIN`` isolated, ``PORTFOLIO_MARGIN`` portfolio).
- Orders are looked up by ``orderLinkId`` (``/v5/order/realtime`` then ``/v5/order/history`` filtered by it):
  ccxt's ``fetch_order`` reaches only the last 500 orders of a unified account and asks to be told so.
- Positions are listed per settle coin (``/v5/position/list`` takes one symbol or a ``settleCoin``).
- Transfers between the account's types (``/v5/asset/transfer/inter-transfer``: ``UNIFIED``, and ``FUND``, the
  funding account where deposits land) carry a client-chosen ``transferId``, a UUID Bybit keeps with the
  transfer and refuses twice (131214). trimtab sends the UUID derived from the journal's transfer id
  (:func:`transfer_uuid`, the same on every run) and, after an ambiguous answer, asks for exactly that id
  (``/v5/asset/transfer/query-inter-transfer-list?transferId=...``).
- A request over the rate limit is answered HTTP 200 with retCode 10006 "Too many visits!" and no
  ``Retry-After``; ``X-Bapi-Limit-Reset-Timestamp`` says when requests are allowed again (milliseconds).
- An IP that keeps going over the limit (600 requests in 5 seconds) is banned: every request is answered
  HTTP 403 ("403, access too frequent"), without ``Retry-After`` (ccxt raises ``RateLimitExceeded``). Bybit's
  V5 rate-limit page says to stop all HTTP sessions and wait at least 10 minutes; the ban lifts itself, and
  going on violating it makes it permanent. :func:`ip_ban` reads a 403 as a ban of :data:`IP_BAN_SECONDS`.
- ccxt is told the account is unified (no ``/v5/user/query-api`` probe) and loads spot and linear markets
  only (no inverse or option markets: trimtab trades neither on Bybit).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from trimtab.venues.exchange_rules import ExchangeRules


def ccxt_class(kind: str, inverse: bool) -> str:
    return "bybit"


def wallet(kind: str, inverse: bool) -> str:
    return "unified"


TRANSFER_NAMESPACE = uuid.UUID("6f1d0c52-3b8e-5e59-9a57-7d4c1b2e9a10")
"""The namespace of trimtab's transfer UUIDs (fixed: a journaled transfer maps to one UUID forever)."""


def transfer_uuid(transfer_id: str) -> str:
    """Bybit's ``transferId`` for trimtab's journaled transfer id: a name-based UUID (version 5), so a restart
    computes the same one and looks the transfer up by it."""
    return str(uuid.uuid5(TRANSFER_NAMESPACE, transfer_id))


def rate_limit_pause(headers: Mapping[str, Any], now_ms: float) -> float | None:
    """Seconds until Bybit's rate limit resets (``X-Bapi-Limit-Reset-Timestamp``), None if it does not say."""
    for key, value in headers.items():
        if str(key).lower() == "x-bapi-limit-reset-timestamp":
            try:
                return max(float(value) - now_ms, 0.0) / 1000.0
            except (TypeError, ValueError):
                return None
    return None


IP_BAN_SECONDS = 600.0
"""How long trimtab sends nothing after Bybit's 403: the "at least 10 minutes" of Bybit's V5 rate-limit page."""


def ip_ban(status: int | None, headers: Mapping[str, Any]) -> float | None:
    """Seconds to send nothing after an answer: :data:`IP_BAN_SECONDS` for HTTP 403, else None (no ban)."""
    return IP_BAN_SECONDS if status == 403 else None


BYBIT = ExchangeRules(
    exchange="bybit",
    client_id=re.compile(r"[A-Za-z0-9_-]{1,36}"),
    client_id_rule="1 to 36 characters of letters, digits, - and _",
    kinds=frozenset({"unified"}),
    ccxt_class=ccxt_class,
    wallet=wallet,
    ccxt_options={
        "enableUnifiedAccount": True,
        "enableUnifiedMargin": False,
        "fetchMarkets": {"types": ["spot", "linear"]},
    },
    account_margin_mode=True,
    positions_by_settle_coin=True,
    order_lookup_field="orderLinkId",
    rate_limit_pause=rate_limit_pause,
    ip_ban=ip_ban,
    client_transfer_id=transfer_uuid,
)
