"""What the run loop tells people about: triggers, trades, guard trips, errors and the kill switch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KINDS = ("trigger", "trade", "guard", "error", "kill")
"""The kinds of event a notifier can be subscribed to."""
ICONS = {"trigger": "🎯", "trade": "💱", "guard": "🛡", "error": "❗", "kill": "🛑"}


@dataclass(frozen=True)
class Event:
    """One thing worth a message: its ``kind`` (one of :data:`KINDS`), a one-line ``text`` and details."""

    kind: str
    text: str
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; expected one of {', '.join(KINDS)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "timestamp": self.timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": dict(self.data),
        }


def summary(events: Sequence[Event]) -> str:
    """One message for several events: each on its line, or a count per kind and the newest ones when many."""
    if len(events) == 1:
        event = events[0]
        return f"{ICONS[event.kind]} trimtab {event.kind}: {event.text}"
    counts: dict[str, int] = {}
    for event in events:
        counts[event.kind] = counts.get(event.kind, 0) + 1
    head = "trimtab: " + ", ".join(f"{count} {kind}" for kind, count in counts.items())
    shown = events[-10:]
    lines = [head] + [f"{ICONS[e.kind]} {e.kind}: {e.text}" for e in shown]
    if len(events) > len(shown):
        lines.insert(1, f"(the newest {len(shown)} of {len(events)})")
    return "\n".join(lines)


def events_from_cycle(report: Mapping[str, Any]) -> list[Event]:
    """The events in one cycle report (``CycleResult.to_json()``, the line of ``trimtab run --format json``).

    A halted cycle gives a ``kill`` event, a triggered one a ``trigger`` event (its text: the cycle's
    decisions, or ``trigger_reason``), each order that filled (even partly) a ``trade`` event, each reason
    the cycle was paused for (stale or outlying prices, an unavailable venue) a ``guard`` event, and
    ``guards`` / ``errors`` lists, when the report has them, one event per entry.
    """
    moment = _time(report.get("timestamp"))
    cycle = report.get("cycle")
    decisions = [str(item) for item in report.get("decisions") or []]
    events: list[Event] = []
    if report.get("halted"):
        reason = str(report.get("halt_reason") or "; ".join(decisions) or "trading is halted")
        events.append(Event("kill", f"cycle {cycle}: no orders sent: {reason}", moment, {"cycle": cycle}))
    if report.get("triggered"):
        reason = str(report.get("trigger_reason") or "; ".join(decisions) or "the trigger fired")
        events.append(Event("trigger", f"cycle {cycle}: {reason}", moment, {"cycle": cycle}))
    for order in report.get("orders") or []:
        filled = float(order.get("filled") or 0.0)
        if filled <= 0:
            continue
        price = order.get("average_price")
        at = f" at {float(price):g}" if isinstance(price, int | float) else ""
        text = f"{order.get('side')} {filled:g} {order.get('symbol')}{at} ({order.get('status')})"
        events.append(Event("trade", text, moment, {"client_order_id": order.get("client_order_id")}))
    paused = report.get("paused")
    for kind, items in (("guard", paused if isinstance(paused, list) else []), ("guard", report.get("guards")),
                        ("error", report.get("errors"))):  # fmt: skip
        for item in items or []:
            events.append(Event(kind, str(item), moment, {"cycle": cycle}))
    return events


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)
