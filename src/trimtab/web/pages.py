"""Server-rendered pages (Jinja2) and the fragments the page script swaps in to stay live without reloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from trimtab.storage.database import Store
from trimtab.web import queries
from trimtab.web.auth import can_read, settings_of
from trimtab.web.charts import class_bars, drift_chart, equity_chart
from trimtab.web.reports import find_report, list_reports

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
RECENT = 20
REPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; frame-ancestors 'self'"
)
"""A backtest report runs its own inline chart script, sandboxed: no access to this origin or its cookies."""


def _number(value: object) -> bool:
    # None, a missing field (Jinja's Undefined) or anything not a number is shown as a dash.
    return isinstance(value, int | float) and not isinstance(value, bool)


def percent(value: float | None, digits: int = 2) -> str:
    return f"{value * 100:.{digits}f} %" if _number(value) else "–"  # type: ignore[operator]


def money(value: float | None) -> str:
    return f"{value:,.2f}" if _number(value) else "–"


def amount(value: float | None) -> str:
    return f"{value:,.8g}" if _number(value) else "–"


def points(value: float | None) -> str:
    """A weight difference in percentage points, signed, without a negative zero."""
    if value is None:
        return "–"
    shown = round(value * 100, 2)
    return f"{shown + 0.0:+.2f} pp"


def when(value: str | None) -> str:
    """An ISO time as ``2026-11-21 08:00:05`` (UTC), for tables."""
    if not value:
        return "–"
    return value.replace("T", " ").replace("Z", "").split(".")[0]


LIQUIDATION_DANGER = 0.10
"""A position closer to liquidation than this (as a fraction of the mark) is shown in red: the run's default
``liquidation_buffer``, where its guard blocks new exposure."""
LIQUIDATION_WARN = 0.25
"""Closer than this is shown in amber."""


def risk(distance: float | None) -> str:
    """The colour class of a liquidation distance: ``danger``, ``warn``, ``safe``, or ``none`` without one."""
    if not _number(distance):
        return "none"
    assert distance is not None
    if distance < LIQUIDATION_DANGER:
        return "danger"
    return "warn" if distance < LIQUIDATION_WARN else "safe"


def leverage(value: float | None) -> str:
    return f"{value:.2f}x" if _number(value) else "–"


TEMPLATES.env.filters.update(
    percent=percent, money=money, amount=amount, points=points, when=when, risk=risk, leverage=leverage
)

pages = APIRouter(include_in_schema=False)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def overview_context(store: Store) -> dict[str, Any]:
    """Everything the overview shows, from one read of the journal."""
    from trimtab.storage.heartbeat import liveness

    valuation = queries.valuation_view(store)
    performance = queries.performance(store)
    return {
        "liveness": liveness(store),
        "valuation": valuation,
        "bars": class_bars(valuation["classes"]),
        "plan": queries.plan_view(store),
        "drift": drift_chart(performance["drift"]),
        "equity": equity_chart(performance["equity_curve"]),
        "performance": performance,
        "orders": list(reversed(queries.orders_list(store, RECENT))),
        "fills": list(reversed(queries.fills_list(store, RECENT))),
        "decisions": list(reversed(queries.decisions_list(store, RECENT))),
    }


def _guard(request: Request) -> Response | None:
    if can_read(request):
        return None
    return RedirectResponse("/login", status_code=303)


@pages.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    if (redirect := _guard(request)) is not None:
        return redirect
    context = overview_context(_store(request)) | {"refresh": settings_of(request).refresh_seconds, "page": "overview"}
    return TEMPLATES.TemplateResponse(request, "overview.html", context)


@pages.get("/fragments/overview", response_class=HTMLResponse)
def overview_fragment(request: Request) -> Response:
    if not can_read(request):
        raise HTTPException(status_code=401, detail="token needed")
    return TEMPLATES.TemplateResponse(request, "_live.html", overview_context(_store(request)))


@pages.get("/login", response_class=HTMLResponse)
def login(request: Request) -> Response:
    return TEMPLATES.TemplateResponse(request, "login.html", {"page": "login", "refresh": 0})


@pages.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request) -> Response:
    if (redirect := _guard(request)) is not None:
        return redirect
    context = {"reports": list_reports(settings_of(request).reports), "page": "reports", "refresh": 0}
    return TEMPLATES.TemplateResponse(request, "reports.html", context)


@pages.get("/reports/{name}", response_class=HTMLResponse)
def report_page(request: Request, name: str) -> Response:
    if (redirect := _guard(request)) is not None:
        return redirect
    report = find_report(settings_of(request).reports, name)
    if report is None:
        raise HTTPException(status_code=404, detail="no such report")
    return TEMPLATES.TemplateResponse(request, "report.html", {"report": report, "page": "reports", "refresh": 0})


@pages.get("/reports/{name}/raw")
def report_raw(request: Request, name: str) -> Response:
    if not can_read(request):
        raise HTTPException(status_code=401, detail="token needed")
    report = find_report(settings_of(request).reports, name)
    if report is None:
        raise HTTPException(status_code=404, detail="no such report")
    response = FileResponse(report.path, media_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
