"""Read-only views of the journal for the dashboard and its API: valuation, plans, trades, costs, drift.

Everything here reads through the storage layer (:class:`Journal`, :class:`StateStore`) or, for the one
join it lacks (fills with the reference price of their intent, to measure slippage), through its models.
Nothing here writes. A valuation snapshot's ``payload`` is the run loop's record of one cycle; the readers
take the fields they know (``classes``, ``margin``, ``positions``, leverage) and tolerate missing ones, so a
journal written by an older loop still shows what it has.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from trimtab.storage.database import Store
from trimtab.storage.journal import Journal, plan_dict
from trimtab.storage.models import DecisionRow, FillRow, IntentRow, OrderRow, PlanRow
from trimtab.storage.records import OPEN_STATUSES, order_record, utc
from trimtab.storage.state import PAPER_ACCOUNT, StateStore
from trimtab.web.controls import trading_state

GUARD_KINDS = ("guard", "gate", "margin_guard", "cap", "refused", "deleverage")
ERROR_KINDS = ("error",)


def iso(moment: datetime | None) -> str | None:
    """A time as ISO 8601 UTC with a ``Z``."""
    moment = utc(moment)
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def finite(value: Any, default: float | None = None) -> float | None:
    """A JSON-safe float: NaN and infinities become ``default``."""
    if value is None or isinstance(value, bool):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def section(payload: Mapping[str, Any], key: str) -> Any:
    """``payload[key]``, or the same key under ``valuation`` or ``plan`` where the loop nested it."""
    if key in payload:
        return payload[key]
    for outer in ("valuation", "plan"):
        inner = payload.get(outer)
        if isinstance(inner, Mapping) and key in inner:
            return inner[key]
    return None


def class_rows(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The classes of a snapshot or plan against their bands, with their drift (weight - target)."""
    rows = []
    for item in section(payload, "classes") or []:
        if not isinstance(item, Mapping) or "name" not in item:
            continue
        target = finite(item.get("target"), 0.0) or 0.0
        weight = finite(item.get("weight"), 0.0) or 0.0
        lower = finite(item.get("lower"), target) or 0.0
        upper = finite(item.get("upper"), target) or 0.0
        breached = bool(item.get("breached", abs(weight - target) > (upper - lower) / 2))
        rows.append(
            {
                "name": str(item["name"]),
                "target": target,
                "lower": lower,
                "upper": upper,
                "weight": weight,
                "drift": weight - target,
                "net_exposure": finite(item.get("net_exposure"), 0.0),
                "breached": breached,
                "cash": bool(item.get("cash", False)),
                "goal": finite(item.get("goal")),
            }
        )
    return rows


def position_rows(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The derivative positions of a snapshot with their liquidation distance (a fraction of the mark).

    Reads a ``positions`` list of valued positions, or else the venue's ``holdings.positions`` (symbol ->
    amount, entry price, leverage), which carries no liquidation figures.
    """
    items = section(payload, "positions")
    if not items:
        holdings = payload.get("holdings")
        held = holdings.get("positions") if isinstance(holdings, Mapping) else None
        if isinstance(held, Mapping):
            items = [{"symbol": symbol, **value} for symbol, value in held.items() if isinstance(value, Mapping)]
    rows = []
    for item in items or []:
        if not isinstance(item, Mapping):
            continue
        rows.append(
            {
                "symbol": str(item.get("symbol", "")),
                "amount": finite(item.get("amount"), 0.0),
                "mark": finite(item.get("mark")),
                "entry_price": finite(item.get("entry_price")),
                "notional": finite(item.get("notional")),
                "leverage": finite(item.get("leverage")),
                "liquidation_price": finite(item.get("liquidation_price")),
                "liquidation_distance": finite(item.get("liquidation_distance")),
            }
        )
    return rows


def valuation_view(store: Store) -> dict[str, Any]:
    """The last valuation the loop journaled, against the bands; ``available`` is false before the first cycle."""
    journal = Journal(store)
    snapshot = journal.last_snapshot()
    flags = trading_state(store).to_dict()
    if snapshot is None:
        return {"available": False, "trading": flags, "classes": [], "positions": [], "breached": []}
    payload = snapshot["payload"] or {}
    classes = class_rows(payload)
    positions = position_rows(payload)
    margin = section(payload, "margin") if isinstance(section(payload, "margin"), Mapping) else {}
    distances = [p["liquidation_distance"] for p in positions if p["liquidation_distance"] is not None]
    explicit_distance = finite(section(payload, "min_liquidation_distance"))
    return {
        "available": True,
        "timestamp": iso(snapshot["timestamp"]),
        "cycle": snapshot["cycle"],
        "base_currency": str(section(payload, "base_currency") or ""),
        "equity": finite(snapshot["equity"], 0.0),
        "halted": bool(snapshot["halted"]),
        "triggered": bool(section(payload, "triggered") or False),
        "trigger_reason": str(section(payload, "trigger_reason") or section(payload, "reason") or ""),
        "classes": classes,
        "breached": [row["name"] for row in classes if row["breached"]],
        "leverage": {
            "gross": finite(section(payload, "gross_leverage"), finite(margin.get("gross_leverage"))),
            "net": finite(section(payload, "net_leverage")),
        },
        "margin": {str(key): finite(value) for key, value in margin.items() if not isinstance(value, bool)}
        | {key: bool(value) for key, value in margin.items() if isinstance(value, bool)},
        "positions": positions,
        "min_liquidation_distance": explicit_distance
        if explicit_distance is not None
        else min(distances, default=None),
        "trading": flags,
    }


def plan_view(store: Store) -> dict[str, Any]:
    """The plan to look at now: the oldest pending one (awaiting approval), else the newest."""
    with store.transaction() as session:
        pending = session.scalars(
            select(PlanRow).where(PlanRow.status == "pending").order_by(PlanRow.created_at, PlanRow.id)
        ).all()
        row = pending[0] if pending else session.scalars(newest(PlanRow, 1)).first()
        if row is None:
            return {"available": False}
        return plan_document(plan_dict(row)) | {"available": True, "pending_count": len(pending)}


def newest(model: Any, limit: int) -> Any:
    """``SELECT`` of the newest ``limit`` rows of ``model`` (by id, or creation time for plans), newest first."""
    if model is PlanRow:
        return select(PlanRow).order_by(PlanRow.created_at.desc(), PlanRow.id.desc()).limit(limit)
    return select(model).order_by(model.id.desc()).limit(limit)


def plan_document(plan: Mapping[str, Any]) -> dict[str, Any]:
    """A journaled plan as JSON: its row and the contract's plan fields from the payload."""
    payload = plan.get("payload") or {}
    return {
        "id": plan["id"],
        "status": plan["status"],
        "created_at": iso(plan["created_at"]),
        "cycle": plan["cycle"],
        "venue": plan["venue"],
        "equity": finite(plan["equity"], 0.0),
        "triggered": bool(plan["triggered"]),
        "reason": str(plan.get("reason") or payload.get("trigger_reason") or ""),
        "classes": class_rows(payload),
        "trades": [dict(trade) for trade in payload.get("trades", []) if isinstance(trade, Mapping)],
        "costs": {str(k): finite(v) for k, v in (payload.get("costs") or {}).items()},
        "margin": _margin(payload.get("margin")),
        "notes": [str(note) for note in payload.get("notes", [])],
    }


def _margin(margin: Any) -> dict[str, Any]:
    """The plan's margin report (before the plan, and ``after`` it) with finite numbers and booleans only."""
    if not isinstance(margin, Mapping):
        return {}
    out: dict[str, Any] = {}
    for key, value in margin.items():
        if isinstance(value, bool):
            out[str(key)] = value
        elif isinstance(value, Mapping):
            out[str(key)] = _margin(value)
        else:
            out[str(key)] = finite(value)
    return out


def plans_list(store: Store, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` plans, newest last."""
    with store.transaction() as session:
        rows = session.scalars(newest(PlanRow, limit)).all()
        return [plan_document(plan_dict(row)) for row in reversed(rows)]


def orders_list(store: Store, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` orders in the ``orders`` command's shape, newest last."""
    with store.transaction() as session:
        rows = session.scalars(newest(OrderRow, limit)).all()
        return [order_record(row).to_dict() for row in reversed(rows)]


def fills_list(store: Store, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` fills, newest last."""
    with store.transaction() as session:
        rows = session.scalars(newest(FillRow, limit)).all()
        return [
            {
                "trade_id": row.trade_id,
                "client_order_id": row.client_order_id,
                "symbol": row.symbol,
                "side": row.side,
                "amount": row.amount,
                "price": row.price,
                "fee": row.fee,
                "timestamp": iso(row.timestamp),
            }
            for row in reversed(rows)
        ]


def decisions_list(store: Store, limit: int, kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The newest ``limit`` decisions (of ``kinds``, when given) and their reasons, newest last."""
    query = newest(DecisionRow, limit)
    if kinds is not None:
        query = query.where(DecisionRow.kind.in_(list(kinds)))
    with store.transaction() as session:
        rows = session.scalars(query).all()
        return [
            {
                "timestamp": iso(row.timestamp),
                "cycle": row.cycle,
                "kind": row.kind,
                "reason": row.reason,
                "payload": row.payload or {},
            }
            for row in reversed(rows)
        ]


@dataclass(frozen=True)
class Costs:
    """What trading cost, in the base currency: fees paid, slippage against the reference, funding paid."""

    fees: float
    slippage: float
    funding: float

    @property
    def total(self) -> float:
        return self.fees + self.slippage + self.funding

    def to_dict(self) -> dict[str, float]:
        return {"fees": self.fees, "slippage": self.slippage, "funding": self.funding, "total": self.total}


def funding_paid(store: Store) -> float:
    """Funding paid so far (negative: received): the last valuation's ``funding_paid`` when the loop
    records it, else the paper account's running total, else 0."""
    snapshot = Journal(store).last_snapshot()
    if snapshot is not None:
        recorded = finite(section(snapshot["payload"] or {}, "funding_paid"))
        if recorded is not None:
            return recorded
    account = StateStore(store).get(PAPER_ACCOUNT)
    if isinstance(account, Mapping):
        return finite(account.get("funding_paid"), 0.0) or 0.0
    return 0.0


def _fee_in_quote(fee: float | None, currency: str | None, symbol: str, price: float) -> float:
    """A fill's fee in the quote currency: a spot buy's commission is charged in the asset bought (Binance
    without BNB), worth ``fee x price``."""
    value = finite(fee, 0.0) or 0.0
    base = symbol.split("/", 1)[0]
    return value * price if currency and currency == base and ":" not in symbol else value


def costs(store: Store) -> Costs:
    """Fees and slippage of every fill, and the funding paid (:func:`funding_paid`).

    Slippage is measured against the reference price of the fill's intent (the price the plan was made at),
    positive when the fill was worse: paid more on a buy, got less on a sell.
    """
    with store.transaction() as session:
        rows = session.execute(
            select(
                FillRow.side,
                FillRow.amount,
                FillRow.price,
                FillRow.fee,
                FillRow.fee_currency,
                FillRow.symbol,
                IntentRow.reference_price,
            )
            .join(OrderRow, OrderRow.client_order_id == FillRow.client_order_id)
            .outerjoin(IntentRow, IntentRow.id == OrderRow.intent_id)
        ).all()
    fees = sum(_fee_in_quote(row.fee, row.fee_currency, row.symbol, row.price) for row in rows)
    slippage = 0.0
    for row in rows:
        if row.reference_price is None or not row.reference_price:
            continue
        sign = 1.0 if row.side == "buy" else -1.0
        slippage += sign * (row.price - row.reference_price) * row.amount
    return Costs(fees=fees, slippage=slippage, funding=funding_paid(store))


def performance(store: Store, limit: int = 2000) -> dict[str, Any]:
    """The equity curve, each class's drift over time, and the costs so far."""
    snapshots = Journal(store).snapshots(limit=limit)
    curve: list[dict[str, Any]] = [
        {"timestamp": iso(s["timestamp"]), "equity": finite(s["equity"], 0.0)} for s in snapshots
    ]
    drift: dict[str, list[dict[str, Any]]] = {}
    for snapshot in snapshots:
        for row in class_rows(snapshot["payload"] or {}):
            drift.setdefault(row["name"], []).append(
                {"timestamp": iso(snapshot["timestamp"]), "weight": row["weight"], "drift": row["drift"]}
            )
    flows = taken_flows(store)
    change = time_weighted_return([s["cycle"] for s in snapshots], [c["equity"] for c in curve], flows)
    return {
        "equity_curve": curve,
        "drift": drift,
        "return": change,
        "net_flows": sum(flows.values()),
        "costs": costs(store).to_dict(),
    }


def taken_flows(store: Store) -> dict[int, float]:
    """Cycle -> the deposits less withdrawals the run took at its start (``cash_flow`` decisions it journaled)."""
    out: dict[int, float] = {}
    for decision in Journal(store).decisions(["cash_flow"]):
        payload = decision["payload"] or {}
        if payload.get("taken"):
            out[decision["cycle"]] = out.get(decision["cycle"], 0.0) + float(payload.get("amount", 0.0))
    return out


def time_weighted_return(cycles: list[int], equity: list[float], flows: dict[int, float]) -> float | None:
    """The return of the valuations ``equity`` (of ``cycles``) with the cash flows taken out (time-weighted).

    A flow taken at the start of cycle ``c`` reached the account before the first valuation of a cycle at or
    after ``c``: that valuation's return is ``(E_i - F) / E_(i-1) - 1``; the others' ``E_i / E_(i-1) - 1``.
    Without flows this is ``last / first - 1``. None without two positive valuations to compare.
    """
    if not equity or equity[0] <= 0.0:
        return None
    pending = sorted((cycle, amount) for cycle, amount in flows.items() if cycle > cycles[0])
    growth = 1.0
    for i in range(1, len(equity)):
        flow = 0.0
        while pending and pending[0][0] <= cycles[i]:
            flow += pending.pop(0)[1]
        if equity[i - 1] <= 0.0:
            return None
        growth *= (equity[i] - flow) / equity[i - 1]
    return growth - 1.0


def counters(store: Store) -> dict[str, Any]:
    """Counts for ``/metrics`` (by SQL, so a long journal costs one query each): orders by status, fills,
    decisions by kind, errors and guard trips."""
    with store.transaction() as session:
        by_status = {
            str(status): int(count)
            for status, count in session.execute(select(OrderRow.status, func.count()).group_by(OrderRow.status))
        }
        by_kind = {
            str(kind): int(count)
            for kind, count in session.execute(select(DecisionRow.kind, func.count()).group_by(DecisionRow.kind))
        }
        fills = int(session.scalar(select(func.count()).select_from(FillRow)) or 0)
    return {
        "orders_by_status": by_status,
        "open_orders": sum(count for status, count in by_status.items() if status in OPEN_STATUSES),
        "fills": fills,
        "errors": sum(count for kind, count in by_kind.items() if kind in ERROR_KINDS),
        "guard_trips": sum(count for kind, count in by_kind.items() if kind in GUARD_KINDS),
        "decisions_by_kind": by_kind,
    }
