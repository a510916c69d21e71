"""Creating a journal is all or nothing; one left half-created by an older version is repaired or named."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from trimtab.storage import StorageError, open_store
from trimtab.storage.journal import Journal


def _half_created(path: Path, rows: bool = False) -> None:
    """What a first start killed halfway left with older versions: some tables, no schema version."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("CREATE TABLE plans (id VARCHAR(16) PRIMARY KEY)")
        connection.execute("CREATE TABLE intents (id INTEGER PRIMARY KEY)")
        if rows:
            connection.execute("INSERT INTO plans VALUES ('p1')")


def test_an_empty_half_created_journal_is_recreated(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    _half_created(path)
    journal = Journal(open_store(f"sqlite:///{path}"))
    assert journal.orders() == [] and journal.last_cycle() == 0


def test_a_half_created_journal_with_rows_is_named_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    _half_created(path, rows=True)
    with pytest.raises(StorageError, match=r"journal\.db is half-created \(tables intents, plans but no schema"):
        open_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT id FROM plans").fetchall() == [("p1",)]


def test_a_schema_statement_that_fails_leaves_no_table_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic.operations import Operations

    created: list[str] = []
    original = Operations.create_table

    def fail_on_fills(self: Operations, name: str, *columns: object, **kw: object) -> object:
        if name == "fills":
            raise OSError("disk full")
        created.append(name)
        return original(self, name, *columns, **kw)

    monkeypatch.setattr(Operations, "create_table", fail_on_fills)
    path = tmp_path / "journal.db"
    with pytest.raises(OSError, match="disk full"):
        open_store(f"sqlite:///{path}")
    assert created[:3] == ["plans", "intents", "orders"]  # they were created, then rolled back with the rest
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == []


def test_database_faults_are_told_in_one_line_without_sql() -> None:
    from sqlalchemy import exc

    from trimtab.storage import JournalUnavailableError
    from trimtab.storage.database import translate

    url = "postgresql+psycopg://bot:secret@db/trimtab"
    cut = exc.OperationalError(
        "INSERT INTO orders (a) VALUES (%s)", {}, Exception("server closed the connection unexpectedly\n\tThis...")
    )
    error = translate(cut, url)
    assert isinstance(error, JournalUnavailableError)
    assert str(error) == (
        "the journal postgresql+psycopg://bot:***@db/trimtab cannot be reached: "
        "server closed the connection unexpectedly"
    )
    full = translate(exc.OperationalError("INSERT", {}, Exception("database or disk is full")), "sqlite:///j.db")
    assert "the last change was not written (everything before it was)" in str(full)
    assert "nothing was written" not in str(full) and not isinstance(full, JournalUnavailableError)
