"""The journal's first schema: plans, intents, orders, fills, snapshots, decisions and state.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("equity", sa.Float, nullable=False),
        sa.Column("triggered", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    op.create_table(
        "intents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(16), sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("leg", sa.Integer, nullable=False),
        sa.Column("class_name", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("reduce_only", sa.Boolean, nullable=False),
        sa.Column("reference_price", sa.Float, nullable=False),
        sa.Column("algo", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("plan_id", "leg", name="uq_intents_plan_leg"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client_order_id", sa.String(40), nullable=False, unique=True),
        sa.Column("intent_id", sa.Integer, sa.ForeignKey("intents.id"), nullable=True, index=True),
        sa.Column("plan_id", sa.String(16), nullable=False, index=True),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("order_type", sa.String(8), nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("price", sa.Float, nullable=True),
        sa.Column("reduce_only", sa.Boolean, nullable=False),
        sa.Column("filled", sa.Float, nullable=False),
        sa.Column("average_price", sa.Float, nullable=True),
        sa.Column("fee", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("venue_order_id", sa.String(64), nullable=True),
        sa.Column("misses", sa.Integer, nullable=False),
        sa.Column("first_miss_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    from trimtab.execution.crash import crash_point

    crash_point("mid_create")  # fault-injection tests: a first start killed halfway through the schema
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("trade_id", sa.String(64), nullable=False),
        sa.Column(
            "client_order_id", sa.String(40), sa.ForeignKey("orders.client_order_id"), nullable=False, index=True
        ),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("fee", sa.Float, nullable=False),
        sa.Column("fee_currency", sa.String(16), nullable=False),
        sa.Column("timestamp", _TS, nullable=False),
        sa.UniqueConstraint("venue", "trade_id", name="uq_fills_venue_trade"),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("timestamp", _TS, nullable=False, index=True),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("equity", sa.Float, nullable=False),
        sa.Column("halted", sa.Boolean, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("timestamp", _TS, nullable=False, index=True),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    op.create_table(
        "state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("state", "decisions", "snapshots", "fills", "orders", "intents", "plans"):
        op.drop_table(table)
