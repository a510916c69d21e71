"""Where the paper account is kept, and the time helpers its JSON document uses."""

from __future__ import annotations

from datetime import UTC, datetime
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

    def set_many(self, values: dict[str, Any]) -> None:
        self.values.update(values)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
