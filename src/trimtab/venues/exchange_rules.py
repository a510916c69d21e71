"""What differs between exchanges behind the same ccxt port: ids, wallets, client ids and margin mode.

Each exchange keeps its rules in its own package (:mod:`trimtab.venues.binance`, :mod:`trimtab.venues.bybit`);
the ccxt factory and venue read them through :class:`ExchangeRules`, so a new exchange is one package and
one entry in :data:`trimtab.venues.ccxt.factory.EXCHANGES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trimtab.errors import BadInputError, OrderRejectedError

HTTP_STATUS = re.compile(r"^\S+ (?:[A-Z]+ \S+ )?(\d{3}) ")
"""The HTTP status in a ccxt error's message: ``"<id> <METHOD> <url> <status> ..."`` from ccxt's status
table (``handle_http_status_code``), ``"<id> <status> ..."`` from an exchange's own (Binance's 418 and 429)."""


def http_status(error: Exception) -> int | None:
    """The HTTP status a ccxt error was raised for, where its message gives one (None otherwise)."""
    found = HTTP_STATUS.match(str(error))
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class ExchangeRules:
    """One exchange's rules.

    ``client_id`` is the pattern an order's client id must match (checked before anything is sent);
    ``ccxt_class`` and ``wallet`` map an account's kind (and ``inverse`` flag) to the ccxt class that reaches
    it and to the wallet name ccxt's ``transfer`` takes; ``kinds`` lists the account kinds the exchange
    offers; ``ccxt_options`` are merged into the ccxt client's options; ``account_margin_mode`` says the
    margin mode is the account's, not each position's (read with ccxt's ``fetch_margin_mode``);
    ``positions_by_settle_coin`` that positions are listed per settle coin, not for a list of symbols;
    ``order_lookup_field`` the parameter by which the exchange's order lists are filtered to one client id
    (None where they cannot be); ``rate_limit_pause`` how long a rate-limited answer asks to wait, read from
    its headers at the exchange's time in milliseconds, where the exchange says so without ``Retry-After``;
    ``ip_ban`` how long an answer's HTTP status and headers say this IP is banned (None: not a ban), where the
    exchange bans IPs that keep going over its limits; ``client_transfer_id`` the id the exchange keeps with a
    transfer, derived from trimtab's journaled transfer id and sent as the ccxt parameter
    ``transfer_id_param`` (None where the exchange takes no client id for transfers, as Binance's universal
    transfer: a transfer is then found again by its contents).
    """

    exchange: str
    client_id: re.Pattern[str]
    client_id_rule: str
    kinds: frozenset[str]
    ccxt_class: Callable[[str, bool], str]
    wallet: Callable[[str, bool], str]
    ccxt_options: Mapping[str, Any] = field(default_factory=dict)
    account_margin_mode: bool = False
    positions_by_settle_coin: bool = False
    order_lookup_field: str | None = None
    rate_limit_pause: Callable[[Mapping[str, Any], float], float | None] | None = None
    ip_ban: Callable[[int | None, Mapping[str, Any]], float | None] | None = None
    client_transfer_id: Callable[[str], str] | None = None
    transfer_id_param: str = "transferId"

    def order_lookup_params(self, client_order_id: str) -> dict[str, Any]:
        """The parameters that narrow the exchange's order lists to one client order id."""
        return {self.order_lookup_field: client_order_id} if self.order_lookup_field else {}

    def check_client_order_id(self, venue: str, client_order_id: str) -> None:
        """Refuse, before sending, a client order id the exchange would refuse."""
        if not self.client_id.fullmatch(client_order_id):
            raise OrderRejectedError(
                f"{venue}: client order id {client_order_id!r} breaks {self.exchange}'s rule ({self.client_id_rule})"
            )

    def check_kind(self, account: str, kind: str) -> None:
        """Refuse an account kind the exchange does not offer (one clear line naming the account)."""
        if kind not in self.kinds:
            offered = ", ".join(sorted(self.kinds))
            raise BadInputError(
                "portfolio", f"account.{account}.kind", f"{self.exchange} offers {offered}, not {kind!r}"
            )
