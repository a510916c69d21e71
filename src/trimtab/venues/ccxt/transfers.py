"""Transfers between the wallets of one exchange account, through ccxt's ``transfer`` and ``fetch_transfers``.

Wallets are named as ccxt names them: on Binance ``spot`` (``MAIN``), ``linear`` (USD-M, ``UMFUTURE``) and
``inverse`` (COIN-M, ``CMFUTURE``); ccxt builds the universal-transfer ``type`` (``MAIN_UMFUTURE``...) from
the pair; on Bybit ``unified`` (``UNIFIED``) and ``fund`` (``FUND``). Two names of one account (ccxt's
``accountsByType``: ``funding`` and ``fund``) are the same wallet. Binance's transfer takes no client id, so a
transfer whose answer was lost is found again in the history (``GET /sapi/v1/asset/transfer``) by asset,
wallets, amount and time; Bybit's takes the client's ``transferId``, and such a transfer is asked for by it
(:func:`transfer_by_id`). Creates are never retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import ccxt

from trimtab.errors import AmbiguousOrderError, AmbiguousTransferError, OrderRejectedError, TransferRejectedError
from trimtab.venues.ccxt import parsing
from trimtab.venues.exchange_rules import ExchangeRules
from trimtab.venues.ports import TransferRequest, TransferState

Translate = Callable[..., Exception]
Reader = Callable[[str, Callable[[], Any]], Any]


def send_transfer(
    exchange: Any, request: TransferRequest, translate: Translate, params: Mapping[str, Any] | None = None
) -> TransferState:
    """Send one transfer, once (``params``: the exchange's extra fields, such as Bybit's ``transferId``).

    Raises
    ------
    AmbiguousTransferError
        The request may have reached the exchange (timeout, 5xx, dropped connection): look it up.
    TransferRejectedError
        The exchange refused it (insufficient balance, unknown wallet or asset, permission).
    """
    if request.amount <= 0:
        raise TransferRejectedError(f"transfer {request.transfer_id}: the amount must be positive")
    try:
        extra = dict(params or {})
        raw = exchange.transfer(request.asset, request.amount, request.from_wallet, request.to_wallet, extra)
    except Exception as error:
        translated = translate(error, "transfer", creating=True, client_order_id=request.transfer_id)
        if isinstance(translated, AmbiguousOrderError):
            raise AmbiguousTransferError(str(translated), transfer_id=request.transfer_id) from None
        if isinstance(translated, OrderRejectedError) or isinstance(error, ccxt.ExchangeError):
            raise TransferRejectedError(str(translated)) from None
        raise translated from None
    state = parse_transfer(raw, request.from_wallet, request.to_wallet, exchange)
    return TransferState(
        exchange_id=state.exchange_id,
        asset=request.asset,
        amount=state.amount or request.amount,  # Binance answers only {"tranId": n}
        from_wallet=request.from_wallet,
        to_wallet=request.to_wallet,
        status=state.status if state.status != "unknown" else "ok",
        timestamp=state.timestamp,
    )


def transfer_history(
    exchange: Any, asset: str, from_wallet: str, to_wallet: str, since: datetime | None, read: Reader
) -> list[TransferState]:
    """Transfers of ``asset`` from one wallet to another since a moment, as the exchange lists them."""
    if not exchange.has.get("fetchTransfers"):
        return []
    since_ms = int(since.timestamp() * 1000) if since is not None else None
    params = {"fromAccount": from_wallet, "toAccount": to_wallet}
    raw = read("fetch_transfers", partial(exchange.fetch_transfers, asset, since_ms, 100, params))
    result = [parse_transfer(entry, from_wallet, to_wallet, exchange) for entry in raw or []]
    return [t for t in result if t.asset == asset]


def client_id_params(rules: ExchangeRules | None, transfer_id: str) -> dict[str, Any]:
    """The exchange's client id for a journaled transfer, as the ccxt parameter it takes (none on Binance)."""
    if rules is None or rules.client_transfer_id is None:
        return {}
    return {rules.transfer_id_param: rules.client_transfer_id(transfer_id)}


def transfer_by_id(
    exchange: Any,
    rules: ExchangeRules | None,
    transfer_id: str,
    asset: str,
    wallets: tuple[str, str],
    since: datetime | None,
    read: Reader,
) -> TransferState | None:
    """The transfer the exchange keeps under the client id of trimtab's ``transfer_id`` (Bybit's ``transferId``),
    or None while it lists none; ``since`` bounds the search from below (Bybit searches 7 days from it).

    Raises
    ------
    TransferRejectedError
        The exchange keeps no client id for transfers (search its history instead).
    """
    query = client_id_params(rules, transfer_id)
    if not query:
        raise TransferRejectedError(f"{exchange.id}: transfers carry no client id here; search the history")
    exchange_id = next(iter(query.values()))
    since_ms = int(since.timestamp() * 1000) if since is not None else None
    raw = read("fetch_transfers", partial(exchange.fetch_transfers, asset, since_ms, 50, query))
    found = [entry for entry in raw or [] if str(entry.get("id")) == exchange_id]
    return parse_transfer(found[0], *wallets, exchange) if found else None


def parse_transfer(raw: Mapping[str, Any], from_wallet: str, to_wallet: str, exchange: Any = None) -> TransferState:
    """ccxt's transfer structure as the port's value (wallets default to the ones asked for, and keep the names
    asked for when the exchange names the same account otherwise). A transfer the exchange answered for but
    still calls pending or unknown (Bybit's ``status`` beside ``retCode`` 0) is ``pending``."""
    status = str(raw.get("status") or "unknown").lower()
    stated = str((raw.get("info") or {}).get("status") or "").upper()
    if stated in ("PENDING", "STATUS_UNKNOWN"):
        status = "pending"
    elif stated == "FAILED":
        status = "failed"
    return TransferState(
        exchange_id=str(raw["id"]) if raw.get("id") is not None else None,
        asset=str(raw.get("currency") or ""),
        amount=parsing.number(raw.get("amount"), 0.0) or 0.0,
        from_wallet=_wallet_name(exchange, raw.get("fromAccount"), from_wallet),
        to_wallet=_wallet_name(exchange, raw.get("toAccount"), to_wallet),
        status="ok" if status in ("ok", "confirmed", "success") else status,
        timestamp=parsing.to_datetime(raw.get("timestamp")),
    )


def _wallet_name(exchange: Any, listed: Any, asked: str) -> str:
    """The wallet as asked for when the exchange's name for it is the same account (``fund`` for ``funding``)."""
    if not listed:
        return asked
    if asked and _account_id(exchange, str(listed)) == _account_id(exchange, asked):
        return asked
    return str(listed)


def _account_id(exchange: Any, wallet: str) -> str:
    accounts = (getattr(exchange, "options", None) or {}).get("accountsByType") or {}
    return str(accounts.get(wallet, wallet)).upper()
