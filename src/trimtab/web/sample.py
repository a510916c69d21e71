"""A small journal with a few cycles of a three-class policy, as ``trimtab run`` records them.

Used by the dashboard's tests and to draw the documentation's screenshot: two valuations, a triggered
plan with its intents, orders and fills, and the loop's decisions. All numbers are fixed, so a test can
check what the pages show.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from trimtab.storage.database import Store
from trimtab.storage.journal import Journal

START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
CLASSES = (
    # name, target, half-width, weights of the successive cycles
    ("BTC", 0.50, 0.05, (0.52, 0.55, 0.58, 0.51)),
    ("ETH", 0.30, 0.05, (0.29, 0.27, 0.25, 0.30)),
    ("STABLE", 0.20, 0.04, (0.19, 0.18, 0.17, 0.19)),
)
EQUITIES = (100_000.0, 101_200.0, 102_400.0, 102_380.0)


def class_payload(cycle_index: int, equity: float) -> list[dict[str, Any]]:
    rows = []
    for name, target, half, weights in CLASSES:
        weight = weights[cycle_index]
        rows.append(
            {
                "name": name,
                "target": target,
                "lower": target - half,
                "upper": target + half,
                "weight": weight,
                "net_exposure": weight * equity,
                "breached": abs(weight - target) > half + 1e-12,
                "goal": target,
                "cash": name == "STABLE",
            }
        )
    return rows


def seed_sample_journal(store: Store, start: datetime = START) -> dict[str, Any]:
    """Write four hourly cycles into ``store``; the third breaches BTC's band and trades back.

    Returns
    -------
    dict
        ``plan_id`` of the triggered plan, ``pending_plan_id`` of a plan left for approval, and the last
        cycle's ``classes``.
    """
    journal = Journal(store)
    base = "USDT"
    for index, equity in enumerate(EQUITIES):
        moment = start + timedelta(hours=index)
        classes = class_payload(index, equity)
        breached = [row["name"] for row in classes if row["breached"]]
        reason = "BTC at 58.00 % is outside 45.00–55.00 %" if breached else ""
        payload = {
            "base_currency": base,
            "equity": equity,
            "triggered": bool(breached),
            "trigger_reason": reason,
            "classes": classes,
            "margin": {"initial": 1_500.0, "free_collateral": 18_900.0, "ok": True},
            "gross_leverage": 1.08,
            "net_leverage": 0.80,
            "positions": [
                {
                    "symbol": "BTC/USDT:USDT",
                    "amount": -0.05,
                    "mark": 60_000.0,
                    "notional": 3_000.0,
                    "leverage": 2.0,
                    "liquidation_price": 89_700.0,
                    "liquidation_distance": 0.495,
                }
            ],
            "cycle_seconds": 0.42,
            "funding_paid": 1.25 if index >= 2 else 0.0,
        }
        journal.save_snapshot(timestamp=moment, cycle=index + 1, equity=equity, halted=False, payload=payload)
        journal.add_decision(
            timestamp=moment,
            cycle=index + 1,
            kind="trigger" if breached else "hold",
            reason=reason or "every class inside its band",
        )
    plan_moment = start + timedelta(hours=2)
    plan_id = "p-sample-0003"
    trade = {
        "class": "BTC",
        "symbol": "BTC/USDT",
        "instrument": "spot",
        "side": "sell",
        "amount": 0.2,
        "notional": 8_192.0,
        "venue": "paper",
        "price": 40_960.0,
    }
    journal.save_plan(
        plan_id,
        created_at=plan_moment,
        cycle=3,
        venue="paper",
        equity=EQUITIES[2],
        triggered=True,
        reason="BTC at 58.00 % is outside 45.00–55.00 %",
        status="done",
        payload={"classes": class_payload(2, EQUITIES[2]), "trades": [trade], "costs": {"fees": 8.19}, "notes": []},
    )
    intent = journal.add_intent(
        plan_id=plan_id,
        leg=0,
        class_name="BTC",
        symbol="BTC/USDT",
        side="sell",
        amount=0.2,
        reduce_only=False,
        reference_price=40_960.0,
        algo="market",
        created_at=plan_moment,
    )
    journal.add_order(
        client_order_id="tt-sample-0003-0",
        plan_id=plan_id,
        intent_id=intent.id,
        venue="paper",
        symbol="BTC/USDT",
        side="sell",
        order_type="market",
        amount=0.2,
        price=None,
        reduce_only=False,
        created_at=plan_moment,
    )
    journal.apply_fill(
        venue="paper",
        trade_id="f-1",
        client_order_id="tt-sample-0003-0",
        amount=0.2,
        price=40_950.0,
        fee=8.19,
        fee_currency=base,
        timestamp=plan_moment + timedelta(seconds=1),
    )
    journal.update_order("tt-sample-0003-0", plan_moment + timedelta(seconds=1), status="filled")
    journal.add_decision(
        timestamp=plan_moment, cycle=3, kind="funding", reason="funding paid", payload={"amount": 1.25}
    )
    pending_id = "p-sample-0004"
    journal.save_plan(
        pending_id,
        created_at=start + timedelta(hours=3),
        cycle=4,
        venue="paper",
        equity=EQUITIES[3],
        triggered=True,
        reason="calendar: weekly rebalance due",
        status="pending",
        payload={
            "classes": class_payload(3, EQUITIES[3]),
            "trades": [trade | {"side": "buy", "amount": 0.01, "notional": 409.6}],
            "costs": {"fees": 0.41},
            "notes": [],
        },
    )
    return {"plan_id": plan_id, "pending_plan_id": pending_id, "classes": class_payload(3, EQUITIES[3])}
