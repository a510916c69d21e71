"""Fills keyed by venue, symbol and trade id: exchanges number trades per symbol (Binance's spot and futures
trade ids are per symbol), so two symbols' trades can share an id; keyed by venue and id alone, the second one
would be taken for the first and never journaled.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.drop_constraint("uq_fills_venue_trade", type_="unique")
        batch.create_unique_constraint("uq_fills_venue_symbol_trade", ["venue", "symbol", "trade_id"])


def downgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.drop_constraint("uq_fills_venue_symbol_trade", type_="unique")
        batch.create_unique_constraint("uq_fills_venue_trade", ["venue", "trade_id"])
