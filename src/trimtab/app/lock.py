"""One trading run per journal: a lease in the journal itself, renewed while the run lives, fencing every order.

The lease is a row of ``run_leases``: the holder's random id, a fencing token that grows with every
acquisition, the holder's process and host, and an expiry. A run

* **acquires** it at start: refused while another holder's lease has not expired (a holder found dead on
  this very machine is taken over at once; elsewhere its lease lapses after ``lease_s``);
* **renews** it from a background thread every ``lease_s / 5`` seconds, on any connection of the pool, so a
  connection the server ends (``pg_terminate_backend``, an idle timeout, a pooler, a failover) loses nothing;
* **proves** it in the same transaction as every order's intent (:meth:`Store.transaction` with
  ``fenced=True``): the row is updated only where the holder is still this run, which also extends it, and the
  row lock makes a takeover wait for that transaction. A run whose lease was taken journals nothing, so it
  sends nothing;
* **stops trading at once** when it learns the lease is lost (:meth:`InstanceLock.stopping` is checked before
  every order; the run then exits saying why), and pauses its orders while the journal cannot be reached to
  renew it.

On SQLite a file lock next to the journal (``<journal>.lock``) is taken as well, before the journal is even
opened, so a refused second run creates and writes nothing; the lease still guards the journal if that file
is deleted. The journal file's identity is checked with the lease: a journal deleted or replaced under a
running process ends its trading (its writes would go nowhere).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trimtab.errors import NeedsHumanError
from trimtab.storage import StorageError, Store, describe_url
from trimtab.storage.models import LeaseRow
from trimtab.storage.records import utc

log = logging.getLogger("trimtab.run")
ONE_INSTANCE = "stop it first: two runs on one account would trade twice"
DEFAULT_LEASE_S = 30.0
"""How long a lease outlives its last renewal: the longest a dead holder on another machine blocks a restart."""


class InstanceLockedError(NeedsHumanError):
    """Another trimtab process holds the journal (two instances on one account would double-trade)."""


class LockLostError(NeedsHumanError):
    """This run no longer holds its lease (taken over after it lapsed, or released): it must not trade."""


class JournalReplacedError(NeedsHumanError):
    """The journal file was deleted or replaced under the running process: its writes would be lost."""


def machine_id() -> str:
    """This kernel's boot and this process namespace: equal only for processes that can see each other's pids."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}:{namespace}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _database_now(session: Session) -> datetime:
    """The database server's clock (PostgreSQL), so hosts with drifting clocks agree on expiries."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        return utc(value) or datetime.now(UTC)
    return datetime.now(UTC)


def sqlite_journal(url: str) -> Path | None:
    """The journal file of a SQLite URL (None for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(url)
    except Exception:  # an unparsable URL is reported by open_store
        return None
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


class InstanceLock:
    """The run lease of one journal, held from :meth:`acquire` to :meth:`release`.

    Parameters
    ----------
    store:
        The open journal.
    name:
        The lease's name (``run:<venue>``): one holder per name.
    lease_s:
        How long the lease lasts past its last renewal.
    """

    def __init__(self, store: Store, name: str = "run", lease_s: float = DEFAULT_LEASE_S) -> None:
        self.store = store
        self.name = name[:128]
        self.lease_s = float(lease_s)
        self.holder = uuid.uuid4().hex
        self.token = 0
        self.lost: str | None = None
        self._file: FileLock | None = None
        self._identity: tuple[int, int] | None = None
        self._renewed = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- taking and giving back ---------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the lease or raise :class:`InstanceLockedError` at once (never waits)."""
        path = self.store.sqlite_path
        if path is not None and self._file is None:
            self._file = FileLock(path)
            self._file.acquire(describe_url(self.store.url))
        try:
            self._take()
        except BaseException:
            self._release_file()
            raise
        self._identity = _identity(path) if path is not None else None
        self.store.fence = self.fence
        self._renewed = time.monotonic()
        self._thread = threading.Thread(target=self._renew_forever, name="trimtab-lease", daemon=True)
        self._thread.start()

    def adopt_file_lock(self, file_lock: FileLock) -> None:
        """Use a file lock taken before the journal was opened (see :class:`FileLock`)."""
        self._file = file_lock

    def _take(self) -> None:
        where = describe_url(self.store.url)
        try:
            with self.store.transaction() as session:
                now = _database_now(session)
                row = session.get(LeaseRow, self.name, with_for_update=True)
                if row is not None and row.holder is not None:
                    self._refuse_if_held(row, now, where)
                if row is None:
                    row = LeaseRow(name=self.name, token=0)
                    session.add(row)
                row.token = (row.token or 0) + 1
                row.holder = self.holder
                row.pid = os.getpid()
                row.host = socket.gethostname()[:255]
                row.machine = machine_id()
                row.acquired_at = now
                row.expires_at = now + timedelta(seconds=self.lease_s)
                session.flush()
                self.token = row.token
        except IntegrityError:  # another run inserted the first lease row at the same moment
            raise InstanceLockedError(f"another trimtab run is starting on {where}; {ONE_INSTANCE}") from None

    def _refuse_if_held(self, row: LeaseRow, now: datetime, where: str) -> None:
        expires = utc(row.expires_at) or now
        dead_here = bool(row.machine) and row.machine == machine_id() and not _alive(row.pid)
        if expires > now and not dead_here:
            left = (expires - now).total_seconds()
            raise InstanceLockedError(
                f"another trimtab run (process {row.pid} on {row.host}) holds {where}; its lease is renewed while "
                f"it runs and lapses {left:.0f} s after it stops; {ONE_INSTANCE}"
            )
        why = "its process is gone" if dead_here else f"its lease lapsed at {expires:%Y-%m-%d %H:%M:%S}Z"
        log.warning("taking over the run lease of process %d on %s: %s", row.pid, row.host, why)

    def release(self) -> None:
        """Give the lease back (only if still ours) and stop renewing it; a journal that cannot be reached
        keeps the lease until it lapses."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        if self.store.fence == self.fence:
            self.store.fence = None
        if self.token:
            try:
                with self.store.transaction() as session:
                    now = _database_now(session)
                    session.execute(
                        update(LeaseRow)
                        .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                        .values(holder=None, expires_at=now)
                    )
            except StorageError as error:
                log.warning("the run lease was not released (%s); it lapses within %.0f s", error, self.lease_s)
            self.token = 0
        self._release_file()

    def _release_file(self) -> None:
        if self._file is not None:
            self._file.release()
            self._file = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- proving and renewing -----------------------------------------------------------------------
    def fence(self, session: Session) -> None:
        """Inside a write transaction: prove the lease is still ours (and extend it), or raise LockLostError."""
        self.raise_if_lost()
        now = _database_now(session)
        extended = session.execute(
            update(LeaseRow)
            .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
            .values(expires_at=now + timedelta(seconds=self.lease_s))
        )
        if extended.rowcount != 1:  # type: ignore[attr-defined]
            self.lost = self._why_lost(session)
            raise LockLostError(self.lost)

    def renew(self) -> bool:
        """Extend the lease; False when the journal could not be reached (the lease stands until it lapses).

        Raises
        ------
        LockLostError
            If another run holds the lease now.
        """
        try:
            with self.store.transaction() as session:
                self.fence(session)
        except StorageError as error:
            log.debug("run lease not renewed: %s", error)
            return False
        self._renewed = time.monotonic()
        return True

    def _renew_forever(self) -> None:
        interval = max(self.lease_s / 5.0, 0.1)
        while not self._stop.wait(interval):
            try:
                self.renew()
            except LockLostError as error:
                log.error("%s; this run stops trading", error)
                return
            except Exception as error:  # the renewer must outlive any surprise; the fence still guards orders
                log.warning("run lease renewal failed: %s: %s", type(error).__name__, error)

    def _why_lost(self, session: Session) -> str:
        row = session.scalars(select(LeaseRow).where(LeaseRow.name == self.name)).first()
        if row is None or row.holder is None:
            return "the run lock was released by someone else (the lease row is gone); this run no longer owns it"
        return (
            f"the run lock was taken over by process {row.pid} on {row.host} (lease {row.token}, this run held "
            f"{self.token}) after this run's lease lapsed"
        )

    # -- what the run asks --------------------------------------------------------------------------
    def raise_if_lost(self) -> None:
        """Raise LockLostError or JournalReplacedError when this run must stop trading for good."""
        if self.lost is not None:
            raise LockLostError(self.lost)
        problem = self.journal_problem()
        if problem is not None:
            self.lost = problem
            raise JournalReplacedError(problem)

    def stopping(self) -> str | None:
        """Why no order may leave now (lost lease, replaced journal, lease not renewed lately), or None."""
        if self.lost is not None:
            return self.lost
        problem = self.journal_problem()
        if problem is not None:
            return problem
        if self.token and time.monotonic() - self._renewed > self.lease_s / 2.0:
            return "the run lease could not be renewed lately (journal unreachable); no order until it is"
        return None

    def journal_problem(self) -> str | None:
        """Why the journal file is no longer the one this run opened (deleted or replaced), or None."""
        path = self.store.sqlite_path
        if path is None or self._identity is None:
            return None
        now = _identity(path)
        if now is None:
            return f"the journal file {path.name} was deleted while this run was using it; this run stops trading"
        if now != self._identity:
            return f"the journal file {path.name} was replaced while this run was using it; this run stops trading"
        return None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


class FileLock:
    """An exclusive ``flock`` on ``<journal>.lock`` (SQLite), taken before the journal is opened."""

    def __init__(self, journal: Path) -> None:
        self.path = journal.with_name(journal.name + ".lock")
        self._handle: int | None = None

    def acquire(self, where: str) -> None:
        """Take the lock or raise :class:`InstanceLockedError` at once (a missing folder is left to open_store)."""
        if not self.path.parent.is_dir():
            return
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(self.path)
            os.close(handle)
            raise InstanceLockedError(
                f"another trimtab run{holder} holds {where} (lock file {self.path.name}); {ONE_INSTANCE}"
            ) from None
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
            self._handle = None


def _holder(lock_path: Path) -> str:
    """`` (process 1234)``: the process that wrote its id into the lock file, or nothing when unreadable."""
    try:
        pid = lock_path.read_text().strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""
