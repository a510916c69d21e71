"""The runs table: each ``trimtab run`` process's heartbeat, cycle durations and end.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("heartbeat_at", _TS, nullable=False, index=True),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("end_reason", sa.Text, nullable=False),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("interval_s", sa.Float, nullable=False),
        sa.Column("planned_cycles", sa.Integer, nullable=True),
        sa.Column("cycles", sa.Integer, nullable=False),
        sa.Column("last_cycle", sa.Integer, nullable=True),
        sa.Column("last_cycle_seconds", sa.Float, nullable=True),
        sa.Column("cycle_seconds_sum", sa.Float, nullable=False),
        sa.Column("cycle_seconds_buckets", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("runs")
