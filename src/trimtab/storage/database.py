"""Opening the journal: SQLite by default, PostgreSQL by URL; migrations run at open.

Every write goes through :meth:`Store.transaction`, one atomic transaction: either all of it lands or
none of it does. A database that is locked by another process, full, read-only or unreachable raises
:class:`StorageError` with a plain message (and the password of the URL masked), never half-written state;
a connection that was cut raises :class:`JournalUnavailableError`, which the run answers by pausing.

Creating a journal is atomic too: on SQLite the migrations run inside an explicit ``BEGIN`` (the driver's
default would commit each ``CREATE TABLE`` on its own), so a process killed during its first start leaves no
journal, or a complete one. A journal left half-created by an older version is
repaired when its tables are empty, and named otherwise.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, exc, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from trimtab.errors import BadInputError, NeedsHumanError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 5.0
"""How long SQLite waits on another writer before the store reports it locked."""
POSTGRES_CONNECT_TIMEOUT_S = 5
"""How long a connection attempt to PostgreSQL may take before the journal counts as unreachable."""
log = logging.getLogger("trimtab.storage")


class StorageError(NeedsHumanError):
    """The journal cannot be read or written (locked, full, read-only, unreachable); nothing was half-written."""


class JournalUnavailableError(StorageError):
    """The journal's database cannot be reached now (a cut connection, a restarting server); retry later."""


_UNAVAILABLE = (
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "connection is closed",
    "connection timed out",
    "timeout expired",
    "consuming input failed",
    "connection not open",
    "the database system is",
    "no connection to the server",
    "ssl syscall error",
    "broken pipe",
    "connection reset",
    "unable to open database file",
    "disk i/o error",
)
JOURNAL_TABLES = frozenset({"plans", "intents", "orders", "fills", "snapshots", "decisions", "state"})
"""The tables of the first schema: a database that has some of them but no schema version is half-created."""


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
    if _cut(error, text):
        return JournalUnavailableError(f"the journal {where} cannot be reached: {_first_line(error)}")
    if "locked" in text or "busy" in text:
        message = f"the journal {where} is locked by another process; is another trimtab running on it?"
    elif "full" in text or "no space" in text:
        message = (
            f"the journal {where} is full (no space left): the last change was not written (everything before "
            "it was); free space and restart"
        )
    elif "readonly" in text or "read-only" in text or "read only" in text:
        message = f"the journal {where} is read-only; nothing was written"
    elif isinstance(error, exc.OperationalError):
        message = f"cannot use the journal {where}: {_first_line(error)}"
    else:
        message = f"journal error on {where}: {type(error).__name__}: {_first_line(error)}"
    return StorageError(message)


def _cut(error: Exception, text: str) -> bool:
    """Whether ``error`` means the connection to the database was lost or could not be made."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, exc.OperationalError | exc.InterfaceError) and any(m in text for m in _UNAVAILABLE)


def _first_line(error: Exception) -> str:
    """The driver's own message, first line only (never the SQL statement SQLAlchemy appends)."""
    original = str(getattr(error, "orig", None) or error).strip()
    return original.splitlines()[0] if original else type(error).__name__


class Store:
    """An open journal: an engine, a session factory and the URL it came from."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.fence: Callable[[Session], None] | None = None
        """Proves, inside a fenced transaction, that this process may still trade (the run lease); raises if not."""

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
    def transaction(self, *, fenced: bool = False) -> Iterator[Session]:
        """One atomic transaction; commits on success, rolls back and raises StorageError on a database fault.

        ``fenced``: the transaction first proves through :attr:`fence` that this process still holds the run
        lease, in the same transaction as what it writes (an order's intent, a transfer), so a run that lost
        its lease cannot journal, and therefore cannot send, anything.
        """
        session = self._sessions()
        try:
            with session.begin():
                if fenced and self.fence is not None:
                    self.fence(session)
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


def _sqlite_manual(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling commits DDL statement by statement; with it off, an explicit
    # ``BEGIN`` (see _sqlite_begin) makes the schema's creation all or nothing.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _migration_engine(engine: Engine) -> Engine:
    """The engine migrations run on: for a SQLite file, one whose transactions include DDL (see above).

    Only migrations use it: for everyday work the driver's deferred ``BEGIN`` before the first write lets the
    run, its lease renewal and readers such as ``status`` share the file without snapshot conflicts.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return engine
    atomic = create_engine(engine.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(atomic, "connect", _sqlite_manual)
    event.listen(atomic, "connect", _sqlite_pragmas)
    event.listen(atomic, "begin", _sqlite_begin)
    return atomic


def open_store(url: str, *, create: bool = True) -> Store:
    """Open (and create or migrate) the journal at ``url``.

    Parameters
    ----------
    url:
        An SQLAlchemy URL: ``sqlite:///trimtab-paper.db`` or ``postgresql+psycopg://user@host/db``.
        ``postgresql://`` is read as ``postgresql+psycopg://``.
    create:
        False for commands that read an existing journal (``status``, ``serve``): a journal that does not
        exist there is bad input, and nothing is created.

    Returns
    -------
    Store
        The open store, its schema at the latest migration.

    Raises
    ------
    BadInputError
        If the URL cannot be parsed (source ``--state``), or ``create`` is False and no journal is there.
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
    if parsed.drivername.startswith("postgresql"):
        # A connection the server ended (a restart, pg_terminate_backend, an idle timeout) is replaced at its
        # next use instead of failing it; a server that does not answer fails within seconds, not minutes.
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
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
        if not create:
            _require_journal(engine, url)
        migrate(engine, describe_url(url))
    except (StorageError, BadInputError):
        engine.dispose()
        raise
    except exc.SQLAlchemyError as error:
        engine.dispose()
        raise translate(error, url) from None
    return store


def _require_journal(engine: Engine, url: str) -> None:
    """Raise BadInputError unless ``engine``'s database already holds a trimtab journal."""
    database = make_url(url).database
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and not Path(database).exists():
        raise BadInputError("--state", "", f"no journal at {database}")
    with engine.connect() as connection:
        if "alembic_version" not in inspect(connection).get_table_names():
            raise BadInputError("--state", "", f"no trimtab journal in {describe_url(url)}")


def migrate(engine: Engine, where: str = "") -> None:
    """Bring the schema to the latest migration (a no-op when it already is), in one transaction.

    Raises
    ------
    StorageError
        If the database holds a half-created journal with data in it (an empty one is repaired).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    atomic = _migration_engine(engine)
    try:
        with atomic.begin() as connection:
            _repair_half_created(connection, where)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        if atomic is not engine:
            atomic.dispose()


def _repair_half_created(connection: Connection, where: str) -> None:
    """Drop the tables of a journal whose creation was cut short (no schema version), when they hold nothing."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables and connection.execute(text("SELECT count(*) FROM alembic_version")).scalar():
        return
    partial = sorted(tables & JOURNAL_TABLES)
    if not partial:
        return
    filled = [t for t in partial if connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()]
    if filled:
        raise StorageError(
            f"the journal {where} is half-created (tables {', '.join(partial)} but no schema version) and holds "
            f"rows in {', '.join(filled)}; move it aside and start again"
        )
    log.warning("the journal %s was half-created (tables %s, no schema version): recreating it", where, partial)
    for table in ("fills", "orders", "intents", *sorted(JOURNAL_TABLES - {"fills", "orders", "intents"})):
        if table in tables:
            connection.execute(text(f'DROP TABLE "{table}"'))
    if "alembic_version" in tables:
        connection.execute(text("DROP TABLE alembic_version"))
