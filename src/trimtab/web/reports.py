"""Backtest reports: the HTML files ``trimtab backtest --report`` wrote into one folder.

Only files that the listing shows can be opened: a name is looked up among the folder's ``*.html`` files,
never joined onto the path, so ``../`` and links out of the folder lead nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Report:
    """One report file: its name, size and modification time."""

    name: str
    path: Path
    size: int
    modified: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "modified": self.modified.isoformat().replace("+00:00", "Z"),
            "url": f"/reports/{self.name}",
            "raw_url": f"/reports/{self.name}/raw",
        }


def list_reports(folder: Path | None) -> list[Report]:
    """The ``*.html`` files directly in ``folder`` (regular files inside it only), newest first."""
    if folder is None or not folder.is_dir():
        return []
    root = folder.resolve()
    found = []
    for path in root.glob("*.html"):
        if path.is_symlink() or not path.is_file() or path.resolve().parent != root:
            continue
        info = path.stat()
        found.append(Report(path.name, path, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC)))
    return sorted(found, key=lambda report: (report.modified, report.name), reverse=True)


def find_report(folder: Path | None, name: str) -> Report | None:
    """The listed report called ``name``, or None."""
    for report in list_reports(folder):
        if report.name == name:
            return report
    return None
