"""Geometry of the dashboard's inline SVG: class bars against their bands, drift and equity over time.

The pages draw with plain SVG computed here (no script, nothing fetched, so the live fragments need no
chart library and work under the strict Content-Security-Policy). Class bars live in a 0-100 box; the time
charts (:func:`time_chart`) in a fixed ``CHART_W x CHART_H`` box with a value axis (round ticks, labelled)
and a time axis (dates), lines placed by their real time, and a value range never narrower than
``min_span`` so a move of a few units is drawn as the small move it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
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


CHART_W, CHART_H = 640.0, 220.0
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 80.0, 624.0, 10.0, 190.0


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values inside ``[low, high]``, about ``count`` of them: steps of 1, 2, 2.5 or 5 x a power of 10."""
    span = high - low
    if span <= 0 or not math.isfinite(span):
        return [low]
    raw = span / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12) + 0.0)
        value += step
    return ticks


def _moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _date_label(seconds: float, span: float) -> str:
    """A time tick in UTC: the date, and the time of day when the chart spans less than three days."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%m-%d %H:%M" if span < 3 * 86_400 else "%Y-%m-%d")


def time_chart(
    series: Mapping[str, Sequence[tuple[str, float]]],
    *,
    label: Callable[[float], str],
    min_span: float,
    centre_zero: bool = False,
) -> dict[str, Any]:
    """Lines of ``(ISO time, value)`` points on shared axes, in a ``CHART_W x CHART_H`` box.

    Parameters
    ----------
    series:
        Name -> points, oldest first.
    label:
        Formats a value tick (``12,500`` or ``+1.5 pp``).
    min_span:
        The narrowest value range drawn; a flatter series is centred in it.
    centre_zero:
        Keep zero in the middle (drift charts).

    Returns
    -------
    dict
        ``lines`` (name, color, SVG points, last value), ``y_ticks`` and ``x_ticks`` (position and label),
        the plot box and the chart size; ``lines`` is empty without points.
    """
    points = [(_moment(t), v) for values in series.values() for t, v in values]
    if not points:
        return {"lines": [], "y_ticks": [], "x_ticks": []}
    first, last = min(t for t, _ in points), max(t for t, _ in points)
    low, high = min(v for _, v in points), max(v for _, v in points)
    if centre_zero:
        peak = max(abs(low), abs(high), min_span / 2)
        low, high = -peak, peak
    elif high - low < min_span:
        middle = (high + low) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad
    t_span = last - first

    def x(moment: float) -> float:
        share = 0.5 if t_span <= 0 else (moment - first) / t_span
        return round(PLOT_LEFT + share * (PLOT_RIGHT - PLOT_LEFT), 2)

    def y(value: float) -> float:
        return round(PLOT_BOTTOM - (value - low) / (high - low) * (PLOT_BOTTOM - PLOT_TOP), 2)

    lines = [
        {
            "name": name,
            "color": PALETTE[index % len(PALETTE)],
            "points": " ".join(f"{x(_moment(t))},{y(v)}" for t, v in values),
            "last": values[-1][1] if values else None,
        }
        for index, (name, values) in enumerate(series.items())
    ]
    y_ticks = [{"y": y(v), "label": label(v), "value": v} for v in nice_ticks(low, high) if low <= v <= high]
    stamps = [first] if t_span <= 0 else [first + t_span * i / 3 for i in range(4)]
    x_ticks = [{"x": x(t), "label": _date_label(t, t_span)} for t in stamps]
    return {
        "lines": lines,
        "y_ticks": y_ticks,
        "x_ticks": x_ticks,
        "zero_y": y(0.0) if low <= 0.0 <= high else None,
        "box": {"left": PLOT_LEFT, "right": PLOT_RIGHT, "top": PLOT_TOP, "bottom": PLOT_BOTTOM},
        "width": CHART_W,
        "height": CHART_H,
    }


def equity_chart(curve: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Equity over time; the value axis spans at least 1 % of the equity, so small changes look small."""
    values = [(str(p["timestamp"]), float(p["equity"])) for p in curve]
    level = max((abs(v) for _, v in values), default=1.0)
    return time_chart({"equity": values}, label=lambda v: f"{v:,.0f}", min_span=max(level * 0.01, 1.0))


def drift_chart(drift: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """Each class's weight minus target over time, in percentage points, symmetric around zero (at least ±1 pp)."""
    series = {name: [(str(p["timestamp"]), float(p["drift"])) for p in points] for name, points in drift.items()}
    return time_chart(
        series, label=lambda v: f"{v * 100:+.1f} pp".replace("+0.0", "0.0"), min_span=0.02, centre_zero=True
    )
