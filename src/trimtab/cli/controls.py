"""The loop's controls on the command line, with the dashboard's names and meanings.

| command | dashboard | effect |
|---|---|---|
| ``trimtab pause`` | Pause | no new orders until ``resume``; a kill switch stays as it is |
| ``trimtab resume`` | Resume | lifts a pause; refused (exit 2) under the kill switch |
| ``trimtab kill`` | Kill switch | no new orders until ``release`` |
| ``trimtab release`` | Release | clears the kill switch and any pause (a ``KILL`` file must be removed by hand) |

All four act on the journal's halt flag through :class:`trimtab.web.controls.Controls`, the dashboard's own
code, and journal a decision whose ``source`` is ``cli``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trimtab.cli.options import ConfigOption, StateOption, journal_url
from trimtab.errors import BadInputError

ReasonOption = Annotated[str, typer.Option("--reason", help="Why (kept in the journal's decisions).")]


def register(app: typer.Typer) -> None:
    """Add ``pause``, ``resume``, ``kill`` and ``release`` to the application."""
    app.command("pause", help="Pause new orders (the dashboard's Pause); 'trimtab resume' lifts it.")(pause_command)
    app.command("resume", help="Lift a pause (the dashboard's Resume); a kill switch needs 'trimtab release'.")(
        resume_command
    )
    app.command("kill", help="Throw the kill switch: no new order until 'trimtab release'; the run keeps valuing.")(
        kill_command
    )
    app.command("release", help="Clear the kill switch and any pause (the dashboard's Release).")(release_command)


def _controls(state: str | None, config: Path | None) -> Any:
    from trimtab.cli.status import open_existing
    from trimtab.web.controls import Controls

    return Controls(open_existing(journal_url(state, config)), source="cli")


def _say(trading: Any) -> None:
    typer.echo(f"orders: {trading.mode}" + (f" ({trading.reason})" if trading.reason else ""))


def pause_command(state: StateOption = None, config: ConfigOption = None, reason: ReasonOption = "") -> None:
    """Pause new orders (the dashboard's Pause); ``trimtab resume`` lifts it. A kill switch stays as it is."""
    _say(_controls(state, config).pause(reason))


def resume_command(state: StateOption = None, config: ConfigOption = None, reason: ReasonOption = "") -> None:
    """Lift a pause (the dashboard's Resume); a kill switch is lifted only by ``trimtab release``."""
    from trimtab.web.controls import ActionError

    try:
        _say(_controls(state, config).resume(reason))
    except ActionError as error:
        raise BadInputError("resume", "", f"{error} ('trimtab release')") from None


def kill_command(state: StateOption = None, config: ConfigOption = None, reason: ReasonOption = "") -> None:
    """Throw the kill switch (the dashboard's Kill switch): new orders are refused until released."""
    _say(_controls(state, config).kill(reason))


def release_command(state: StateOption = None, config: ConfigOption = None, reason: ReasonOption = "") -> None:
    """Clear the kill switch and any pause (the dashboard's Release); a KILL file must be removed by hand."""
    from trimtab.app.killswitch import kill_file

    controls = _controls(state, config)
    _say(controls.release(reason))
    file = kill_file(controls.store)
    if file.exists():
        typer.echo(f"but {file} still halts the run: remove it")
