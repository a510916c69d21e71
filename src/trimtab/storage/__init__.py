"""The durable journal: plans, intents, orders, fills, valuations, decisions and loop state (SQLAlchemy 2)."""

from trimtab.storage.database import (
    JournalUnavailableError,
    StorageError,
    Store,
    default_state_url,
    describe_url,
    open_store,
)

__all__ = ["JournalUnavailableError", "StorageError", "Store", "default_state_url", "describe_url", "open_store"]
