"""Geometry of the dashboard's inline SVG: class bars against their bands, drift and equity lines.

The pages draw with plain SVG computed here (no chart library, nothing fetched): each function returns
numbers in a 0-100 coordinate box that the templates place into ``viewBox="0 0 100 H"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PALETTE = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f")


def bar_scale(classes: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """The weight range every class bar shares: from 0 (or the lowest short weight) to a bit past the top."""
    low = min([0.0, *(min(c["lower"], c["weight"]) for c in classes)])
    high = max([0.1, *(max(c["upper"], c["weight"]) for c in classes)])
    high = min(1.0, high * 1.15) if high <= 1.0 else high * 1.05
    return low, high


def class_bars(classes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per class, the x positions (0-100) of its band, target, weight and zero, on one shared scale."""
    if not classes:
        return []
    low, high = bar_scale(classes)
    span = high - low or 1.0

    def x(value: float) -> float:
        return round(max(0.0, min(100.0, (value - low) / span * 100.0)), 3)

    bars = []
    for index, row in enumerate(classes):
        zero, weight = x(0.0), x(row["weight"])
        bars.append(
            {
                **row,
                "color": PALETTE[index % len(PALETTE)],
                "band_x": x(row["lower"]),
                "band_width": round(x(row["upper"]) - x(row["lower"]), 3),
                "target_x": x(row["target"]),
                "bar_x": min(zero, weight),
                "bar_width": round(abs(weight - zero), 3),
                "weight_x": weight,
            }
        )
    return bars


def polyline(values: Sequence[float], low: float, high: float, height: float) -> str:
    """SVG ``points`` for ``values`` spread over x 0-100, y from ``high`` (top) to ``low`` (bottom)."""
    if not values:
        return ""
    span = high - low or 1.0
    step = 100.0 / max(1, len(values) - 1)
    return " ".join(
        f"{round(i * step, 3)},{round(height - (value - low) / span * height, 3)}" for i, value in enumerate(values)
    )


def drift_lines(drift: Mapping[str, Sequence[Mapping[str, Any]]], height: float = 40.0) -> dict[str, Any]:
    """Each class's drift (weight - target) over time as a line, on a scale symmetric around zero."""
    peak = max([0.01, *(abs(p["drift"]) for series in drift.values() for p in series)])
    lines = [
        {
            "name": name,
            "color": PALETTE[index % len(PALETTE)],
            "points": polyline([p["drift"] for p in series], -peak, peak, height),
            "last": series[-1]["drift"] if series else 0.0,
        }
        for index, (name, series) in enumerate(drift.items())
    ]
    return {"lines": lines, "peak": peak, "height": height, "zero_y": height / 2}


def equity_line(curve: Sequence[Mapping[str, Any]], height: float = 30.0) -> dict[str, Any]:
    """The equity curve as a line between its own lowest and highest values."""
    values = [float(point["equity"]) for point in curve]
    if not values:
        return {"points": "", "low": 0.0, "high": 0.0, "height": height}
    low, high = min(values), max(values)
    if high == low:
        low, high = low * 0.99 - 1e-9, high * 1.01 + 1e-9
    return {"points": polyline(values, low, high, height), "low": min(values), "high": max(values), "height": height}
