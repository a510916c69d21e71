"""Transfers between the wallets of one exchange account, through ccxt's ``transfer`` and ``fetch_transfers``.

Wallets are named as ccxt names them: on Binance ``spot`` (``MAIN``), ``linear`` (USD-M, ``UMFUTURE``) and
``inverse`` (COIN-M, ``CMFUTURE``); ccxt builds the universal-transfer ``type`` (``MAIN_UMFUTURE``...) from
the pair. Binance's transfer takes no client id, so a transfer whose answer was lost is found again in the
history (``GET /sapi/v1/asset/transfer``) by asset, wallets, amount and time; creates are never retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import ccxt

from trimtab.errors import AmbiguousOrderError, AmbiguousTransferError, OrderRejectedError, TransferRejectedError
from trimtab.venues.ccxt import parsing
from trimtab.venues.ports import TransferRequest, TransferState

Translate = Callable[..., Exception]
Reader = Callable[[str, Callable[[], Any]], Any]


def send_transfer(exchange: Any, request: TransferRequest, translate: Translate) -> TransferState:
    """Send one transfer, once.

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
        raw = exchange.transfer(request.asset, request.amount, request.from_wallet, request.to_wallet)
    except Exception as error:
        translated = translate(error, "transfer", creating=True, client_order_id=request.transfer_id)
        if isinstance(translated, AmbiguousOrderError):
            raise AmbiguousTransferError(str(translated), transfer_id=request.transfer_id) from None
        if isinstance(translated, OrderRejectedError) or isinstance(error, ccxt.ExchangeError):
            raise TransferRejectedError(str(translated)) from None
        raise translated from None
    state = parse_transfer(raw, request.from_wallet, request.to_wallet)
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
    result = [parse_transfer(entry, from_wallet, to_wallet) for entry in raw or []]
    return [t for t in result if t.asset == asset]


def parse_transfer(raw: Mapping[str, Any], from_wallet: str, to_wallet: str) -> TransferState:
    """ccxt's transfer structure as the port's value (wallets default to the ones asked for)."""
    status = str(raw.get("status") or "unknown").lower()
    return TransferState(
        exchange_id=str(raw["id"]) if raw.get("id") is not None else None,
        asset=str(raw.get("currency") or ""),
        amount=parsing.number(raw.get("amount"), 0.0) or 0.0,
        from_wallet=str(raw.get("fromAccount") or from_wallet),
        to_wallet=str(raw.get("toAccount") or to_wallet),
        status="ok" if status in ("ok", "confirmed", "success") else status,
        timestamp=parsing.to_datetime(raw.get("timestamp")),
    )
