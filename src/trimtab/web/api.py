"""The JSON API: reads of the journal and the actions, described by the OpenAPI schema at ``/openapi.json``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from trimtab import __version__
from trimtab.errors import BadInputError
from trimtab.storage.database import Store
from trimtab.web import queries
from trimtab.web.auth import require_action, require_read, settings_of
from trimtab.web.controls import ActionError, Controls, trading_state
from trimtab.web.metrics import CONTENT_TYPE, render_metrics
from trimtab.web.reports import list_reports
from trimtab.web.schemas import (
    DecideOut,
    DecisionOut,
    FillOut,
    FlowIn,
    FlowOut,
    HealthOut,
    OrderOut,
    PerformanceOut,
    PlanOut,
    ReasonIn,
    ReportOut,
    SessionIn,
    TradingStateOut,
    ValuationOut,
)
from trimtab.web.security import TOKEN_COOKIE, token_matches

Limit = Annotated[int, Query(ge=1, le=1000, description="how many of the newest rows")]

READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "the server listens beyond loopback and the request has no valid token"},
    503: {"description": "the journal cannot be read (locked, unreachable)"},
}
ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not JSON"},
    401: {"description": "no token in the X-Trimtab-Token (or Authorization: Bearer) header"},
    403: {"description": "a wrong token, or a cross-site request"},
    503: {"description": "the journal cannot be written (locked, full, read-only)"},
}

reads = APIRouter(prefix="/api", dependencies=[Depends(require_read)], tags=["read"], responses=READ_ERRORS)
actions = APIRouter(prefix="/api", dependencies=[Depends(require_action)], tags=["actions"], responses=ACTION_ERRORS)
open_routes = APIRouter(tags=["service"])


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@open_routes.get("/api/health", response_model=HealthOut)
def health() -> dict[str, str]:
    """Liveness: the server answers (it says nothing about the journal)."""
    return {"status": "ok", "version": __version__}


@open_routes.post(
    "/api/session",
    status_code=204,
    responses={400: {"description": "the body is not JSON"}, 403: {"description": "wrong token"}},
)
def open_session(request: Request, body: SessionIn) -> Response:
    """Exchange the token for a session cookie that lets a browser read pages (``--allow-remote``).

    The cookie serves reads only; actions still need the token in a header.
    """
    settings = settings_of(request)
    if not token_matches(body.token, settings.token_sha256):
        raise HTTPException(status_code=403, detail="wrong token")
    response = Response(status_code=204)
    response.set_cookie(
        TOKEN_COOKIE,
        body.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@reads.get("/state", response_model=TradingStateOut)
def get_state(request: Request) -> dict[str, Any]:
    """Whether a loop is alive (running, stopped, stale) and what its brake says (trading, paused, halted)."""
    from trimtab.storage.heartbeat import liveness

    store = store_of(request)
    return trading_state(store).to_dict() | {"liveness": liveness(store).to_dict()}


@reads.get("/valuation", response_model=ValuationOut)
def get_valuation(request: Request) -> dict[str, Any]:
    """The last valuation: equity, class weights against bands, breaches, leverage, margin, liquidations."""
    return queries.valuation_view(store_of(request))


@reads.get("/plan", response_model=PlanOut)
def get_plan(request: Request) -> dict[str, Any]:
    """The plan to look at now: the oldest one awaiting approval, else the newest."""
    return queries.plan_view(store_of(request))


@reads.get("/plans", response_model=list[PlanOut])
def get_plans(request: Request, limit: Limit = 50) -> list[dict[str, Any]]:
    """The newest plans, newest last."""
    return queries.plans_list(store_of(request), limit)


@reads.get("/orders", response_model=list[OrderOut])
def get_orders(request: Request, limit: Limit = 100) -> list[dict[str, Any]]:
    """The newest orders, newest last (the ``orders`` command's fields)."""
    return queries.orders_list(store_of(request), limit)


@reads.get("/fills", response_model=list[FillOut])
def get_fills(request: Request, limit: Limit = 100) -> list[dict[str, Any]]:
    """The newest fills, newest last."""
    return queries.fills_list(store_of(request), limit)


@reads.get("/decisions", response_model=list[DecisionOut])
def get_decisions(
    request: Request,
    limit: Limit = 100,
    kind: Annotated[list[str] | None, Query(description="only these kinds (trigger, guard, pause...)")] = None,
) -> list[dict[str, Any]]:
    """The newest decisions and their reasons, newest last."""
    return queries.decisions_list(store_of(request), limit, kind)


@reads.get("/performance", response_model=PerformanceOut)
def get_performance(request: Request) -> dict[str, Any]:
    """The equity curve, each class's drift over time, and costs by kind (fees, slippage, funding)."""
    return queries.performance(store_of(request))


@reads.get("/reports", response_model=list[ReportOut])
def get_reports(request: Request) -> list[dict[str, Any]]:
    """The backtest reports in the ``--reports`` folder, newest first."""
    return [report.to_dict() for report in list_reports(settings_of(request).reports)]


@open_routes.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(require_read)],
    responses={**READ_ERRORS, 200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}},
)
def get_metrics(request: Request) -> Response:
    """Equity, drift per class, orders, fills, errors, cycle time and guard trips, for Prometheus."""
    return Response(render_metrics(store_of(request)), media_type=CONTENT_TYPE)


def _controls(request: Request) -> Controls:
    return Controls(store_of(request))


@actions.post("/actions/pause", response_model=TradingStateOut)
def pause(request: Request, body: ReasonIn | None = None) -> dict[str, Any]:
    """Pause the loop: it keeps valuing the portfolio but plans and sends nothing."""
    return _controls(request).pause(body.reason if body else "").to_dict()


@actions.post(
    "/actions/resume", response_model=TradingStateOut, responses={409: {"description": "the kill switch is on"}}
)
def resume(request: Request, body: ReasonIn | None = None) -> dict[str, Any]:
    """Resume a paused loop (a kill switch stays on: release it instead)."""
    try:
        return _controls(request).resume(body.reason if body else "").to_dict()
    except ActionError as error:
        raise HTTPException(status_code=error.status, detail=str(error)) from None


@actions.post("/actions/kill", response_model=TradingStateOut)
def kill(request: Request, body: ReasonIn | None = None) -> dict[str, Any]:
    """Throw the kill switch: every new order is refused until released."""
    return _controls(request).kill(body.reason if body else "").to_dict()


@actions.post("/actions/release", response_model=TradingStateOut)
def release(request: Request, body: ReasonIn | None = None) -> dict[str, Any]:
    """Release the kill switch."""
    return _controls(request).release(body.reason if body else "").to_dict()


@actions.post(
    "/plans/{plan_id}/approve",
    response_model=DecideOut,
    responses={404: {"description": "no such plan"}, 409: {"description": "the plan is not pending"}},
)
def approve(request: Request, plan_id: str) -> dict[str, Any]:
    """Approve a plan that ``trimtab run --approve`` left pending."""
    return _decide(request, plan_id, approve=True)


@actions.post(
    "/plans/{plan_id}/reject",
    response_model=DecideOut,
    responses={404: {"description": "no such plan"}, 409: {"description": "the plan is not pending"}},
)
def reject(request: Request, plan_id: str) -> dict[str, Any]:
    """Reject a pending plan: the loop will not execute it."""
    return _decide(request, plan_id, approve=False)


@actions.post(
    "/flows",
    response_model=FlowOut,
    responses={
        409: {"description": "no run has valued the journal yet (its base currency is unknown)"},
        422: {"description": "a zero or missing amount, an over-long note or reference"},
    },
)
def record_flow(request: Request, body: FlowIn) -> dict[str, Any]:
    """Record a deposit or withdrawal: a paper run credits it, and the next cycle steers it into the
    underweight (out of the overweight) classes. trimtab moves no money on an exchange."""
    try:
        return _controls(request).record_flow(body.amount, body.note, body.reference)
    except ActionError as error:
        raise HTTPException(status_code=error.status, detail=str(error)) from None
    except BadInputError as error:
        raise HTTPException(status_code=422, detail=error.message) from None


def _decide(request: Request, plan_id: str, approve: bool) -> dict[str, Any]:
    try:
        return _controls(request).decide(plan_id, approve)
    except ActionError as error:
        raise HTTPException(status_code=error.status, detail=str(error)) from None
