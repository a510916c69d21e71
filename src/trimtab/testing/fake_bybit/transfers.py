"""Bybit's internal transfer between the account types of one UID, and its records.

``POST /v5/asset/transfer/inter-transfer`` takes ``transferId`` (a UUID the client generates: Bybit keeps it
with the transfer and refuses it a second time), ``coin``, ``amount``, ``fromAccountType`` and
``toAccountType``; it answers ``{"transferId", "status"}``. ``GET /v5/asset/transfer/query-inter-transfer-list``
takes ``transferId``, ``coin``, ``status``, ``startTime``, ``endTime`` (both effective to the second; without
either the last 7 days, with one of them 7 days from or to it), ``limit`` (1 to 50, default 20) and ``cursor``,
and answers ``{"list": [...], "nextPageCursor"}``, newest first, each row ``{"transferId", "coin", "amount",
"fromAccountType", "toAccountType", "timestamp", "status"}`` (Bybit's V5 reference, "Create Internal
Transfer" and "Get Internal Transfer Records").

A unified account's types here are ``UNIFIED`` (the trading account: the engine's wallet) and ``FUND`` (the
funding account, where deposits land). Refusals, with the codes of Bybit's V5 error reference (as ccxt's
``bybit`` error table lists them): a ``transferId`` that is not a UUID (131203 "Request parameter error"), one
used before (131214 "TransferId exist"), an account type this account has not (131207 "Account not exist"),
the same type on both sides (131211), a non-positive or malformed amount (131215 "Amount error"), more than
the source can release (131212 "Insufficient balance": the unified account releases its balance less what
open spot orders lock and, in a settle coin, the initial margin of its positions).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trimtab.testing.fake_bybit.engine import BybitRejectError

if TYPE_CHECKING:
    from trimtab.testing.fake_bybit.engine import BybitEngine

ACCOUNT_TYPES = ("UNIFIED", "FUND")
WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class BybitTransfer:
    transfer_id: str
    coin: str
    amount: float
    from_type: str
    to_type: str
    timestamp_ms: int
    status: str = "SUCCESS"

    def row(self) -> dict[str, Any]:
        amount = f"{self.amount:.10f}".rstrip("0").rstrip(".")
        return {
            "transferId": self.transfer_id,
            "coin": self.coin,
            "amount": amount,
            "fromAccountType": self.from_type,
            "toAccountType": self.to_type,
            "timestamp": str(self.timestamp_ms),
            "status": self.status,
        }


def releasable(engine: BybitEngine, account_type: str, coin: str) -> float:
    """What an account type can send of ``coin``."""
    if account_type == "FUND":
        return engine.funding.get(coin, 0.0)
    free = engine.wallet.get(coin, 0.0) - engine.locked(coin)
    settles = any(m.category == "linear" and m.quote == coin for m in engine.markets.values())
    return min(free, engine.available(coin) - engine.locked(coin)) if settles else free


def create(engine: BybitEngine, params: Mapping[str, Any]) -> Any:
    transfer_id = str(params.get("transferId") or "")
    try:
        uuid.UUID(transfer_id)
    except ValueError:
        raise BybitRejectError(131203, "Request parameter error: transferId must be a UUID") from None
    if any(t.transfer_id == transfer_id for t in engine.transfers):
        raise BybitRejectError(131214, "TransferId exist")
    source, target = str(params.get("fromAccountType")), str(params.get("toAccountType"))
    if source not in ACCOUNT_TYPES or target not in ACCOUNT_TYPES:
        raise BybitRejectError(131207, "Account not exist")
    if source == target:
        raise BybitRejectError(131211, "fromAccountType can't be the same as toAccountType")
    coin = str(params.get("coin") or "")
    try:
        amount = float(params["amount"])
    except (KeyError, TypeError, ValueError):
        amount = 0.0
    if not amount > 0:
        raise BybitRejectError(131215, "Amount error")
    if amount > releasable(engine, source, coin) + 1e-12:
        raise BybitRejectError(131212, "Insufficient balance")
    _account(engine, source)[coin] = _account(engine, source).get(coin, 0.0) - amount
    _account(engine, target)[coin] = _account(engine, target).get(coin, 0.0) + amount
    engine.transfers.append(BybitTransfer(transfer_id, coin, amount, source, target, engine.now_ms()))
    return {"transferId": transfer_id, "status": "SUCCESS"}


def records(engine: BybitEngine, params: Mapping[str, Any]) -> Any:
    start, end = _window(engine.now_ms(), params)
    limit = min(max(int(params.get("limit", 20)), 1), 50)
    offset = int(params.get("cursor") or 0)
    rows = [
        t
        for t in reversed(engine.transfers)  # newest first
        if params.get("transferId") in (None, t.transfer_id)
        and params.get("coin") in (None, t.coin)
        and params.get("status") in (None, t.status)
        and start <= t.timestamp_ms // 1000 * 1000 <= end
    ]
    page = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    return {"list": [t.row() for t in page], "nextPageCursor": str(offset + limit) if more else ""}


def _window(now_ms: int, params: Mapping[str, Any]) -> tuple[int, int]:
    """Bybit's window, effective to the second: 7 days ending now, or 7 days from ``startTime`` / to ``endTime``."""
    start = int(params["startTime"]) // 1000 * 1000 if "startTime" in params else None
    end = int(params["endTime"]) if "endTime" in params else None
    if start is None and end is None:
        return now_ms - WEEK_MS, now_ms
    if start is None:
        assert end is not None
        return end - WEEK_MS, end
    return start, start + WEEK_MS if end is None else end


def _account(engine: BybitEngine, account_type: str) -> dict[str, float]:
    return engine.funding if account_type == "FUND" else engine.wallet
