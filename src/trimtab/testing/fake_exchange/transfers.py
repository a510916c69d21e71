"""Binance's user universal transfer between the fake's wallets, and its history.

``POST /sapi/v1/asset/transfer`` (``type``, ``asset``, ``amount``) answers ``{"tranId": n}``;
``GET /sapi/v1/asset/transfer`` (``type`` required, ``startTime``, ``endTime``, ``current``, ``size``
default 10 and at most 100) answers ``{"total": n, "rows": [...]}``, each row
``{"asset", "amount", "type", "status": "CONFIRMED", "tranId", "timestamp"}`` (Binance Wallet API:
"User Universal Transfer" and "Query User Universal Transfer History"; recorded examples in
``tests/data/recorded/binance/``). ccxt's ``binance.transfer(code, amount, "spot", "future")`` sends
``type=MAIN_UMFUTURE``; ``"delivery"`` is ``CMFUTURE``.

Refusals: an unknown type (-1100), a non-positive amount (-1102), or more than the source wallet can
release (-5013 "Asset transfer failed: insufficient balance", the code ccxt maps to ``InsufficientFunds``;
a futures wallet releases its balance less the initial margin its positions and orders hold).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trimtab.testing.fake_exchange.answers import Params, num, required
from trimtab.testing.fake_exchange.errors import ExchangeRejectError

if TYPE_CHECKING:
    from trimtab.testing.fake_exchange.engine import Engine, Family

WALLETS: dict[str, Family] = {"MAIN": "spot", "UMFUTURE": "usdm", "CMFUTURE": "coinm"}


@dataclass(frozen=True)
class FakeTransfer:
    tran_id: int
    type: str
    asset: str
    amount: float
    timestamp_ms: int


def _families(kind: str) -> tuple[Family, Family]:
    source, _, target = kind.partition("_")
    if source not in WALLETS or target not in WALLETS or source == target:
        raise ExchangeRejectError(400, -1100, f"Illegal characters found in parameter 'type'; legal range is '{kind}'.")
    return WALLETS[source], WALLETS[target]


def releasable(engine: Engine, family: Family, asset: str) -> float:
    """What a wallet can send: its balance, less (for futures) the initial margin held in that asset."""
    balance = engine.wallet(family).get(asset, 0.0)
    if family == "spot":
        locked = sum(engine._locked_by(o, asset) for o in engine.orders if o.family == "spot" and o.is_open)
        return balance - locked
    return balance - engine.margin_used(family, asset)


def transfer(engine: Engine, params: Params) -> Any:
    kind = required(params, "type")
    asset = required(params, "asset")
    amount = float(required(params, "amount"))
    source, target = _families(kind)
    if amount <= 0:
        raise ExchangeRejectError(
            400, -1102, "Mandatory parameter 'amount' was not sent, was empty/null, or malformed."
        )
    if amount > releasable(engine, source, asset) + 1e-12:
        raise ExchangeRejectError(400, -5013, "Asset transfer failed: insufficient balance")
    wallets = engine.wallet(source), engine.wallet(target)
    wallets[0][asset] = wallets[0].get(asset, 0.0) - amount
    wallets[1][asset] = wallets[1].get(asset, 0.0) + amount
    record = FakeTransfer(next(engine._ids), kind, asset, amount, engine.now_ms())
    engine.transfers.append(record)
    return {"tranId": record.tran_id}


def history(engine: Engine, params: Params) -> Any:
    kind = required(params, "type")
    _families(kind)
    start = int(params.get("startTime", "0"))
    end = int(params["endTime"]) if "endTime" in params else None
    size = min(int(params.get("size", "10")), 100)
    current = max(int(params.get("current", "1")), 1)
    rows = [
        t
        for t in reversed(engine.transfers)  # newest first
        if t.type == kind and t.timestamp_ms >= start and (end is None or t.timestamp_ms <= end)
    ]
    page = rows[(current - 1) * size : current * size]
    return {
        "total": len(rows),
        "rows": [
            {
                "asset": t.asset,
                "amount": num(t.amount),
                "type": t.type,
                "status": "CONFIRMED",
                "tranId": t.tran_id,
                "timestamp": t.timestamp_ms,
            }
            for t in page
        ],
    }
