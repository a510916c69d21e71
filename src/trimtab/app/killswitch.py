"""The kill switch: a ``KILL`` file next to the journal, or the halt flag that ``trimtab kill`` sets.

Either one halts new orders at the next check (before every cycle and before every order); reconciliation
and valuation go on so the journal stays true. ``trimtab resume`` clears the flag; the file is removed by
hand. A run that cannot compute equity halts the cycle as well (fail closed).
"""

from __future__ import annotations

from pathlib import Path

from trimtab.storage import Store
from trimtab.storage.state import StateStore

KILL_FILE = "KILL"


def kill_file(store: Store) -> Path:
    """The KILL file that halts a run on ``store``: next to a SQLite journal, else in the working folder."""
    path = store.sqlite_path
    return (path.parent if path is not None else Path.cwd()) / KILL_FILE


def halt_status(store: Store, state: StateStore) -> tuple[bool, str]:
    """``(halted, reason)`` from the KILL file and the journal's halt flag."""
    file = kill_file(store)
    if file.exists():
        return True, f"KILL file present ({file.name})"
    return state.halted()
