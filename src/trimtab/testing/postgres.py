"""A PostgreSQL database for tests: the server on 127.0.0.1:5432 (database ``test``), one schema per test.

Tests that use the ``pg_url`` fixture skip with a clear message where no server answers, as on a user's
machine; CI runs one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

USERS = ("postgres", "root")


def server_url() -> str | None:
    """The URL of the local test database, trying the usual trust-auth users; None when none answers."""
    for user in USERS:
        url = f"postgresql+psycopg://{user}@127.0.0.1:5432/test"
        try:
            engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
            with engine.connect() as connection:
                connection.execute(sa.text("select 1"))
            engine.dispose()
            return url
        except Exception:  # any failure to connect means "no server here"
            continue
    return None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A store URL whose search path is a fresh schema, dropped after the test."""
    base = server_url()
    if base is None:
        pytest.skip("no PostgreSQL answers on 127.0.0.1:5432 (database 'test', user postgres or root)")
    schema = f"tt_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
