"""Alembic environment: migrations run on the connection that :func:`open_store` hands over."""

from __future__ import annotations

from alembic import context

from trimtab.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic path is supported
    raise RuntimeError("trimtab migrations run through trimtab.storage.open_store")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
