"""One running instance per journal: a file lock next to a SQLite journal, an advisory lock on PostgreSQL.

Both are released by the operating system or the database when the process dies, even by SIGKILL, so a
crashed run never blocks its restart.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text

from trimtab.errors import NeedsHumanError
from trimtab.storage import Store, describe_url

ONE_INSTANCE = "stop it first: two runs on one account would trade twice"


def _holder(lock_path: Path) -> str:
    """`` (process 1234)``: the process that wrote its id into the lock file, or nothing when unreadable."""
    try:
        pid = lock_path.read_text().strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""


class InstanceLockedError(NeedsHumanError):
    """Another trimtab process holds the journal (two instances on one account would double-trade)."""


class InstanceLock:
    """An exclusive lock on a journal, held from :meth:`acquire` to :meth:`release`."""

    def __init__(self, store: Store, name: str = "run") -> None:
        self.store = store
        self.name = name
        self._file: int | None = None
        self._connection: Any = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`InstanceLockedError` at once (never waits)."""
        path = self.store.sqlite_path
        if self.store.is_sqlite:
            if path is None:
                return  # an in-memory journal belongs to this process alone
            lock_path = path.with_name(path.name + ".lock")
            handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _holder(lock_path)
                os.close(handle)
                raise InstanceLockedError(
                    f"another trimtab run{holder} holds {describe_url(self.store.url)} "
                    f"(lock file {lock_path.name}); {ONE_INSTANCE}"
                ) from None
            os.ftruncate(handle, 0)
            os.write(handle, str(os.getpid()).encode())
            self._file = handle
            return
        key = int.from_bytes(hashlib.sha256(f"trimtab:{self.name}".encode()).digest()[:8], "big", signed=True)
        connection = self.store.engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        connection.commit()
        if not got:
            connection.close()
            raise InstanceLockedError(
                f"another trimtab run holds {describe_url(self.store.url)} (advisory lock); {ONE_INSTANCE}"
            )
        self._connection = connection
        self._key = key

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            os.close(self._file)
            self._file = None
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
