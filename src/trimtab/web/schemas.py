"""The API's answers as pydantic models: they give the OpenAPI schema its shapes and keep answers to them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RunOut(BaseModel):
    id: int
    venue: str
    pid: int
    host: str
    started_at: str | None
    ended_at: str | None
    end_reason: str
    interval_s: float
    planned_cycles: int | None
    cycles: int
    last_cycle: int | None
    last_cycle_seconds: float | None


class LivenessOut(BaseModel):
    state: str = Field(description="running, stopped or stale (a run that has not ended but stopped beating)")
    reason: str = Field(description="e.g. 'last cycle 12 s ago, expected every 60 s'")
    heartbeat_at: str | None = Field(description="end of the newest run's last cycle (or its start)")
    age_s: float | None = Field(description="seconds since heartbeat_at")
    interval_s: float | None = Field(description="seconds the run waits between cycles")
    stale_after_s: float | None = Field(description="a run that has not ended is stale past this age")
    run: RunOut | None


class TradingStateOut(BaseModel):
    mode: str = Field(description="the brake: trading (orders allowed), paused or halted")
    paused: bool = Field(description="halted by a pause (resume clears it)")
    halted: bool = Field(description="the loop sends no order (pause, kill switch or KILL file)")
    reason: str
    kill_file: bool = Field(description="a KILL file next to the journal halts the loop (remove it by hand)")
    liveness: LivenessOut | None = Field(default=None, description="whether a trimtab run is alive on the journal")


class ClassOut(BaseModel):
    name: str
    target: float
    lower: float
    upper: float
    weight: float
    drift: float = Field(description="weight - target")
    net_exposure: float | None
    breached: bool
    cash: bool
    goal: float | None


class PositionOut(BaseModel):
    symbol: str
    amount: float | None
    mark: float | None
    entry_price: float | None
    notional: float | None
    leverage: float | None
    liquidation_price: float | None
    liquidation_distance: float | None = Field(description="fraction of the mark the price may move before it")


class LeverageOut(BaseModel):
    gross: float | None
    net: float | None


class ValuationOut(BaseModel):
    available: bool = Field(description="false until the loop journaled its first valuation")
    timestamp: str | None = None
    cycle: int | None = None
    base_currency: str | None = None
    equity: float | None = None
    halted: bool | None = None
    triggered: bool | None = None
    trigger_reason: str | None = None
    classes: list[ClassOut]
    breached: list[str]
    leverage: LeverageOut | None = None
    margin: dict[str, float | bool | None] | None = None
    positions: list[PositionOut]
    min_liquidation_distance: float | None = None
    trading: TradingStateOut


class PlanOut(BaseModel):
    available: bool = True
    id: str | None = None
    status: str | None = Field(default=None, description="pending, approved, rejected, executing or done")
    created_at: str | None = None
    cycle: int | None = None
    venue: str | None = None
    equity: float | None = None
    triggered: bool | None = None
    reason: str | None = None
    classes: list[ClassOut] = []
    trades: list[dict[str, Any]] = []
    costs: dict[str, float | None] = {}
    margin: dict[str, Any] = Field(
        default={}, description="the plan's margin report: initial, free_collateral, ok, required, ... and after"
    )
    notes: list[str] = []
    pending_count: int | None = None


class OrderOut(BaseModel):
    client_order_id: str
    symbol: str
    side: str
    amount: float
    filled: float
    average_price: float | None
    fee: float
    status: str
    venue: str
    created_at: str
    type: str
    price: float | None
    reduce_only: bool
    plan_id: str


class FillOut(BaseModel):
    trade_id: str
    client_order_id: str
    symbol: str
    side: str
    amount: float
    price: float
    fee: float
    timestamp: str | None


class DecisionOut(BaseModel):
    timestamp: str | None
    cycle: int
    kind: str
    reason: str
    payload: dict[str, Any]


class CostsOut(BaseModel):
    fees: float
    slippage: float = Field(description="against the plan's reference price; positive is a cost")
    funding: float
    total: float


class EquityPoint(BaseModel):
    timestamp: str | None
    equity: float | None


class DriftPoint(BaseModel):
    timestamp: str | None
    weight: float
    drift: float


class PerformanceOut(BaseModel):
    equity_curve: list[EquityPoint]
    drift: dict[str, list[DriftPoint]]
    return_: float | None = Field(
        alias="return",
        serialization_alias="return",
        description="time-weighted: the deposits and withdrawals the run took are not counted as gains or losses",
    )
    net_flows: float = Field(default=0.0, description="deposits less withdrawals taken over the curve's span")
    costs: CostsOut


class ReportOut(BaseModel):
    name: str
    size: int
    modified: str
    url: str
    raw_url: str


class FlowIn(BaseModel):
    """A deposit (``amount`` > 0) or withdrawal (< 0) in the base currency, to journal."""

    amount: float = Field(description="base currency; > 0 a deposit, < 0 a withdrawal", allow_inf_nan=False)
    note: str = Field(default="", max_length=500)
    reference: str | None = Field(
        default=None, min_length=1, max_length=64, description="your id: the same reference twice is one flow"
    )


class FlowOut(BaseModel):
    id: int
    reference: str
    recorded_at: str
    asset: str
    amount: float
    kind: str = Field(description="deposit or withdrawal")
    source: str
    note: str
    new: bool = Field(description="false when the reference was recorded before (nothing was added)")


class ReasonIn(BaseModel):
    """An optional reason, journaled with the action."""

    reason: str = Field(default="", max_length=500)


class DecideOut(BaseModel):
    id: str
    status: str


class SessionIn(BaseModel):
    token: str = Field(max_length=200)


class HealthOut(BaseModel):
    status: str
    version: str
