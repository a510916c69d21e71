"""Options shared by several commands, so each means the same thing everywhere.

* ``--state``: the journal. Every command that reads or writes one defaults to the same journal as ``run``:
  ``run.state`` of ``--config`` (or ``TRIMTAB__RUN__STATE``), else ``sqlite:///trimtab-<venue>.db`` in the
  working folder (``trimtab-paper.db`` for the paper venue).
* ``--config``: the run configuration file that ``trimtab init`` writes.
* ``--format``: ``text`` (for people) or ``json`` (for programs); ``table`` is accepted for ``text``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import typer

from trimtab.errors import BadInputError

StateOption = Annotated[
    str | None,
    typer.Option(
        "--state",
        help="Journal URL; default: run.state of --config, else sqlite:///trimtab-paper.db in this folder.",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Run configuration file (trimtab init writes one).", show_default=False),
]
FormatOption = Annotated[str, typer.Option("--format", help="text (for people) or json (for programs).")]

OutputFormat = Literal["text", "json"]


def output_format(value: str) -> OutputFormat:
    """The ``--format`` value as ``text`` or ``json`` (``table``, the older name, means ``text``).

    Raises
    ------
    BadInputError
        For any other value.
    """
    if value in ("text", "table"):
        return "text"
    if value == "json":
        return "json"
    raise BadInputError("--format", "", f"{value!r} must be 'text' or 'json'")


def journal_url(state: str | None, config: Path | None) -> str:
    """The journal a command works on: ``--state``, else the run configuration's, else the paper default."""
    if state:
        return state
    from trimtab.cli.settings import load_settings
    from trimtab.storage import default_state_url

    run = load_settings(config, os.environ).run
    return run.state or default_state_url(run.venue)


def given_flags(ctx: typer.Context, flags: dict[str, str]) -> dict[str, object]:
    """``section.key`` -> value for each of ``flags`` (parameter name -> configuration key) given on the command line.

    A flag left at its default does not count, so the configuration file and the environment apply.
    """
    given: dict[str, object] = {}
    for name, key in flags.items():
        # By name: typer carries its own copy of click, whose ParameterSource is another enum.
        source = getattr(ctx.get_parameter_source(name), "name", None)
        value = ctx.params.get(name)
        if source in ("COMMANDLINE", "ENVIRONMENT") and value is not None:
            given[key] = str(value) if isinstance(value, Path) else value
    return given
