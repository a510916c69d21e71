"""Client order ids: ``tt-<plan id>-<leg>-<child>``, deterministic and short enough for every exchange.

The prefix ``tt-`` marks trimtab's orders: reconciliation adopts any order carrying it and leaves every other
order alone. Binance allows 36 characters of ``[.A-Z:/a-z0-9_-]``; an id here is at most 26.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

PREFIX = "tt-"


def new_plan_id(created_at: datetime, venue: str, cycle: int, salt: str = "") -> str:
    """A 10-character plan id from the moment, venue, cycle and a salt (unique in practice, reproducible)."""
    text = f"{created_at.isoformat()}|{venue}|{cycle}|{salt}"
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def client_order_id(plan_id: str, leg: int, child: int) -> str:
    """The client order id of child order ``child`` of leg ``leg`` of plan ``plan_id``."""
    return f"{PREFIX}{plan_id}-{leg}-{child}"


def is_ours(client_order_id: str | None) -> bool:
    """Whether an order carries trimtab's prefix."""
    return bool(client_order_id) and str(client_order_id).startswith(PREFIX)
