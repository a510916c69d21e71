"""Alembic migrations of the journal; :func:`trimtab.storage.database.open_store` runs them at open."""
