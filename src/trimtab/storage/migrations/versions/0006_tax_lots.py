"""Tax lots: the open lots of the account and the last fill they include.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tax_lots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("cost", sa.Float, nullable=False),
        sa.Column("acquired", _TS, nullable=False),
        sa.Column("venue", sa.String(64), nullable=True),
    )
    op.create_index("ix_tax_lots_asset", "tax_lots", ["asset"])
    op.create_table(
        "tax_lot_marks",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("through_fill", sa.Integer, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tax_lot_marks")
    op.drop_index("ix_tax_lots_asset", table_name="tax_lots")
    op.drop_table("tax_lots")
