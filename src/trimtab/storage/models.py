"""The journal's tables: plans, intents, orders, fills, valuation snapshots, decisions and key-value state.

One row per fact, never rewritten behind the exchange's back: an intent and its order row (with the client
order id) exist before the request leaves; fills are keyed by ``(venue, symbol, trade_id)`` so each is applied once.
Times are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every journal table."""


class PlanRow(Base):
    """A plan the loop computed; ``status`` is pending (awaiting approval), approved, rejected, executing or done."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cycle: Mapped[int] = mapped_column(Integer)
    venue: Mapped[str] = mapped_column(String(64))
    equity: Mapped[float] = mapped_column(Float)
    triggered: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    policy_hash: Mapped[str] = mapped_column(String(64), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class IntentRow(Base):
    """One leg of a plan: what the execution intends to trade, before any order exists."""

    __tablename__ = "intents"
    __table_args__ = (UniqueConstraint("plan_id", "leg", name="uq_intents_plan_leg"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    leg: Mapped[int] = mapped_column(Integer)
    class_name: Mapped[str] = mapped_column(String(64), default="")
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    amount: Mapped[float] = mapped_column(Float)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    reference_price: Mapped[float] = mapped_column(Float)
    algo: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderRow(Base):
    """One exchange order; the row is written with status ``pending`` before the request is sent."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(40), unique=True)
    intent_id: Mapped[int | None] = mapped_column(ForeignKey("intents.id"), index=True, nullable=True)
    plan_id: Mapped[str] = mapped_column(String(16), index=True)
    venue: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(8))
    amount: Mapped[float] = mapped_column(Float)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    filled: Mapped[float] = mapped_column(Float, default=0.0)
    average_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    fee: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), index=True)
    venue_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    misses: Mapped[int] = mapped_column(Integer, default=0)
    first_miss_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    venue_filled: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The filled amount the venue last reported; the journal's fills must add up to it before the order is final."""


class FillRow(Base):
    """One execution (trade) of an order; ``(venue, symbol, trade_id)`` is unique so a fill is applied once
    (exchanges number trades per symbol)."""

    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("venue", "symbol", "trade_id", name="uq_fills_venue_symbol_trade"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(64))
    trade_id: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str] = mapped_column(ForeignKey("orders.client_order_id"), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    amount: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    fee: Mapped[float] = mapped_column(Float, default=0.0)
    fee_currency: Mapped[str] = mapped_column(String(16), default="")
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SnapshotRow(Base):
    """The valuation of one cycle: equity and every class against its band (``payload``)."""

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    cycle: Mapped[int] = mapped_column(Integer)
    equity: Mapped[float] = mapped_column(Float)
    halted: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class DecisionRow(Base):
    """Why the loop did (or did not do) something: a trigger, a guard, a pause, a halt, a funding switch."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    cycle: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class StateRow(Base):
    """A key-value pair of loop state: the halt flag, the last rebalance, the peak equity, the paper account."""

    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LeaseRow(Base):
    """The run lease: which process may trade on this journal, until when, and its fencing token.

    ``holder`` is a random id of the holding process (None once released); ``token`` grows with every
    acquisition, so a write fenced with an older holder is refused. ``machine`` identifies the host's kernel and
    process namespace, so a holder found dead on this very machine need not wait for ``expires_at``.
    """

    __tablename__ = "run_leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token: Mapped[int] = mapped_column(Integer)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    machine: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RunRow(Base):
    """One ``trimtab run`` process: its heartbeat (the end of its last cycle), cycle durations and how it ended.

    ``ended_at`` is set when the process stops on its own terms (its cycles done, a signal, an error); a run
    killed outright leaves it empty, and its heartbeat ages until readers call it stale.
    """

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_reason: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    interval_s: Mapped[float] = mapped_column(Float)
    planned_cycles: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cycles: Mapped[int] = mapped_column(Integer, default=0)
    last_cycle: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_cycle_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    cycle_seconds_sum: Mapped[float] = mapped_column(Float, default=0.0)
    cycle_seconds_buckets: Mapped[list[int]] = mapped_column(JSON, default=list)
