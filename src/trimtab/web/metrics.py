"""``/metrics``: the journal's state in Prometheus' text exposition format (version 0.0.4).

Gauges come from the last valuation (equity, each class's weight and drift, leverage, the nearest
liquidation, the last cycle's duration, the halt and pause flags); counters from the journal (orders by
status, fills, errors, guard trips). The journal is the source, so a restarted server reports the same
totals as before.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from trimtab.storage.database import Store
from trimtab.storage.journal import Journal
from trimtab.web.queries import counters, finite, section, valuation_view

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape_label(value: str) -> str:
    """A label value escaped as the format asks (backslash, double quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class Exposition:
    """Collects metric families and writes them with their HELP and TYPE lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            if labels:
                rendered = ",".join(f'{key}="{escape_label(text)}"' for key, text in sorted(labels.items()))
                self.lines.append(f"{name}{{{rendered}}} {number(value)}")
            else:
                self.lines.append(f"{name} {number(value)}")

    def histogram(
        self, name: str, help_text: str, bounds: Iterable[float], counts: list[int], total: float, count: int
    ) -> None:
        """A histogram: cumulative ``_bucket`` lines (``le`` upper bounds, then +Inf), ``_sum`` and ``_count``."""
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} histogram")
        running = 0
        for bound, bucket in zip([*bounds, math.inf], counts, strict=True):
            running += bucket
            self.lines.append(f'{name}_bucket{{le="{number(bound)}"}} {running}')
        self.lines.append(f"{name}_sum {number(total)}")
        self.lines.append(f"{name}_count {count}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render_metrics(store: Store) -> str:
    """The metrics of ``store`` as Prometheus text."""
    view = valuation_view(store)
    counts = counters(store)
    out = Exposition()
    trading = view["trading"]
    out.family("trimtab_up", "gauge", "1 while the dashboard can read the journal.", [({}, 1.0)])
    out.family(
        "trimtab_halted",
        "gauge",
        "1 while the loop sends no order (pause, kill switch or KILL file).",
        [({}, float(trading["halted"]))],
    )
    out.family(
        "trimtab_paused", "gauge", "1 while the halt is a pause from the dashboard.", [({}, float(trading["paused"]))]
    )
    if view["available"]:
        out.family(
            "trimtab_equity", "gauge", "Equity at the last valuation, in the base currency.", [({}, view["equity"])]
        )
        out.family("trimtab_cycle", "gauge", "Number of the last cycle journaled.", [({}, float(view["cycle"]))])
        rows = view["classes"]
        out.family(
            "trimtab_class_weight",
            "gauge",
            "Weight of each class.",
            [({"class": r["name"]}, r["weight"]) for r in rows],
        )
        out.family(
            "trimtab_class_target",
            "gauge",
            "Target of each class.",
            [({"class": r["name"]}, r["target"]) for r in rows],
        )
        out.family(
            "trimtab_class_drift",
            "gauge",
            "Weight minus target of each class.",
            [({"class": r["name"]}, r["drift"]) for r in rows],
        )
        out.family(
            "trimtab_class_breached",
            "gauge",
            "1 when the class is outside its band.",
            [({"class": r["name"]}, float(r["breached"])) for r in rows],
        )
        gross = view["leverage"]["gross"]
        if gross is not None:
            out.family("trimtab_gross_leverage", "gauge", "Gross exposure over equity.", [({}, gross)])
        distance = view["min_liquidation_distance"]
        if distance is not None:
            out.family(
                "trimtab_min_liquidation_distance",
                "gauge",
                "Nearest liquidation, as a fraction of the mark.",
                [({}, distance)],
            )
    _liveness(out, store)
    out.family(
        "trimtab_orders_total",
        "counter",
        "Orders journaled, by status.",
        [({"status": status}, float(count)) for status, count in sorted(counts["orders_by_status"].items())],
    )
    out.family("trimtab_open_orders", "gauge", "Orders not yet settled.", [({}, float(counts["open_orders"]))])
    out.family("trimtab_fills_total", "counter", "Fills journaled.", [({}, float(counts["fills"]))])
    out.family("trimtab_errors_total", "counter", "Errors the loop journaled.", [({}, float(counts["errors"]))])
    out.family(
        "trimtab_guard_trips_total", "counter", "Orders or plans a guard refused.", [({}, float(counts["guard_trips"]))]
    )
    return out.text()


def _liveness(out: Exposition, store: Store) -> None:
    """Whether a loop is alive, its last heartbeat, its cycle durations."""
    from trimtab.storage.heartbeat import CYCLE_BUCKETS, cycle_histogram, liveness

    alive = liveness(store)
    out.family(
        "trimtab_loop_state",
        "gauge",
        "1 for the loop's state: running, stopped, or stale (not ended, but no heartbeat for too long).",
        [({"state": state}, float(alive.state == state)) for state in ("running", "stopped", "stale")],
    )
    if alive.heartbeat_at is not None:
        out.family(
            "trimtab_last_cycle_timestamp_seconds",
            "gauge",
            "Unix time of the newest run's last heartbeat (end of its last cycle, or its start).",
            [({}, alive.heartbeat_at.timestamp())],
        )
    if alive.interval_s is not None:
        out.family(
            "trimtab_cycle_interval_seconds", "gauge", "Seconds the run waits between cycles.", [({}, alive.interval_s)]
        )
    last = alive.run["last_cycle_seconds"] if alive.run else None
    seconds = last if last is not None else _cycle_seconds(store)
    if seconds is not None:
        out.family("trimtab_cycle_seconds", "gauge", "Duration of the last cycle in seconds.", [({}, seconds)])
    counts, total, count = cycle_histogram(store)
    out.histogram(
        "trimtab_cycle_duration_seconds",
        "Durations of the loop's cycles, every run.",
        CYCLE_BUCKETS,
        counts,
        total,
        count,
    )


def _cycle_seconds(store: Store) -> float | None:
    snapshot = Journal(store).last_snapshot()
    if snapshot is None:
        return None
    payload: dict[str, Any] = snapshot["payload"] or {}
    for key in ("cycle_seconds", "duration_s", "elapsed_s"):
        value = finite(section(payload, key))
        if value is not None:
            return value
    return None
