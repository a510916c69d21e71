"""``trimtab init``: write a starter configuration (run settings, policy, paper portfolio, market snapshot)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from trimtab.errors import BadInputError

STARTER_FILES = ("trimtab.toml", "policy.toml", "portfolio.toml", "market.json")
"""The files ``init`` writes, from ``trimtab/cli/starter``."""


def register(app: typer.Typer) -> None:
    """Add ``init`` to the application."""
    app.command("init", help="Write a starter configuration (trimtab.toml, a policy, a paper portfolio).")(init_command)


def init_command(
    folder: Annotated[Path, typer.Argument(help="Where to write the files (created if missing).")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")] = False,
) -> None:
    """Write the starter files; refuses to overwrite any of them without --force (then writes none)."""
    if folder.exists() and not folder.is_dir():
        raise BadInputError(str(folder), "", "is a file, not a folder")
    targets = [folder / name for name in STARTER_FILES]
    existing = [target.name for target in targets if target.exists()]
    if existing and not force:
        raise BadInputError(existing[0], "", "already exists (nothing was written; --force overwrites)")
    folder.mkdir(parents=True, exist_ok=True)
    starter = resources.files("trimtab.cli") / "starter"
    for target in targets:
        text = (starter / target.name).read_text(encoding="utf-8")
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
        typer.echo(f"wrote {target}")
    config = folder / "trimtab.toml"
    typer.echo(
        "next:\n"
        f"  trimtab run --config {config} --once     # one paper cycle on the starter snapshot\n"
        f"  trimtab status                          # what the journal holds now\n"
        f"  trimtab serve --config {config}          # the dashboard on http://127.0.0.1:8765/\n"
        f"edit {config} (every setting is there) and the policy; keys come from the environment."
    )
