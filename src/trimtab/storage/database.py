"""Opening the journal: SQLite by default, PostgreSQL by URL; migrations run at open.

Every write goes through :meth:`Store.transaction`, one atomic transaction: either all of it lands or
none of it does. A database that is locked by another process, full, read-only or unreachable raises
:class:`StorageError` with a plain message (and the password of the URL masked), never half-written state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from trimtab.errors import BadInputError, NeedsHumanError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 5.0
"""How long SQLite waits on another writer before the store reports it locked."""


class StorageError(NeedsHumanError):
    """The journal cannot be read or written (locked, full, read-only, unreachable); nothing was half-written."""


def default_state_url(venue: str) -> str:
    """The default journal: ``sqlite:///trimtab-<venue>.db`` in the working folder (paper and live never share)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", venue)
    return f"sqlite:///trimtab-{safe}.db"


def describe_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<invalid database URL>"


def translate(error: Exception, url: str) -> StorageError:
    """A database error as a :class:`StorageError` whose message says what to do."""
    text = str(getattr(error, "orig", error)).lower()
    where = describe_url(url)
    if "locked" in text or "busy" in text:
        message = f"the journal {where} is locked by another process; is another trimtab running on it?"
    elif "full" in text or "no space" in text:
        message = f"the journal {where} is full (no space left); nothing was written, free space and restart"
    elif "readonly" in text or "read-only" in text or "read only" in text:
        message = f"the journal {where} is read-only; nothing was written"
    elif isinstance(error, exc.OperationalError):
        message = f"cannot use the journal {where}: {getattr(error, 'orig', error)}"
    else:
        message = f"journal error on {where}: {type(error).__name__}: {getattr(error, 'orig', error)}"
    return StorageError(message)


class Store:
    """An open journal: an engine, a session factory and the URL it came from."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file of a SQLite store (None in memory or for other databases)."""
        if not self.is_sqlite:
            return None
        database = make_url(self.url).database
        if not database or database == ":memory:":
            return None
        return Path(database).resolve()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One atomic transaction; commits on success, rolls back and raises StorageError on a database fault."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except exc.SQLAlchemyError as error:
            raise translate(error, self.url) from None
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets `trimtab status` read while a run writes; NORMAL sync keeps every commit atomic and survives a
    # killed process (only a power cut may lose the last commits, never half of one).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def open_store(url: str) -> Store:
    """Open (and create or migrate) the journal at ``url``.

    Parameters
    ----------
    url:
        An SQLAlchemy URL: ``sqlite:///trimtab-paper.db`` or ``postgresql+psycopg://user@host/db``.
        ``postgresql://`` is read as ``postgresql+psycopg://``.

    Returns
    -------
    Store
        The open store, its schema at the latest migration.

    Raises
    ------
    BadInputError
        If the URL cannot be parsed (source ``--state``).
    StorageError
        If the database cannot be reached, is locked, full or read-only.
    """
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise BadInputError("--state", "", f"{describe_url(url)} is not a database URL") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {"future": True}
    if parsed.drivername.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).resolve().parent
            if not folder.is_dir():
                raise BadInputError("--state", "", f"folder {folder.name!r} of {describe_url(url)} does not exist")
    try:
        engine = create_engine(parsed, **kwargs)
    except (exc.ArgumentError, ImportError) as error:
        raise BadInputError("--state", "", f"cannot use {describe_url(url)}: {error}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    store = Store(engine, url)
    try:
        migrate(engine)
    except exc.SQLAlchemyError as error:
        engine.dispose()
        raise translate(error, url) from None
    return store


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest migration (a no-op when it already is)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
