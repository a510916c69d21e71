"""Where the paper account is kept, and the time helpers its JSON document uses."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any


class AccountStore:
    """Where the paper account is kept: anything with ``get(key)`` and ``set(key, value)`` (a StateStore)."""

    def get(self, key: str, default: Any = None) -> Any: ...  # pragma: no cover - protocol

    def set(self, key: str, value: Any) -> None: ...  # pragma: no cover - protocol


class MemoryStore(AccountStore):
    """A store that forgets on exit (tests, one-off runs)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def funding_stamps(after: datetime, until: datetime, interval_hours: float) -> list[datetime]:
    """Funding stamps on the grid of ``interval_hours`` from midnight UTC, in ``(after, until]``."""
    step = timedelta(hours=interval_hours)
    midnight = after.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    stamp = midnight + step * math.floor((after - midnight) / step + 1.0)
    out = []
    while stamp <= until:
        out.append(stamp)
        stamp += step
    return out
