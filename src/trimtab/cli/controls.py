"""The loop's controls on the command line, with the dashboard's names and meanings.

| command | dashboard | effect |
|---|---|---|
| ``trimtab pause`` | Pause | no new orders until ``resume``; a kill switch stays as it is |
| ``trimtab resume`` | Resume | lifts a pause; refused (exit 2) under the kill switch |
| ``trimtab kill`` | Kill switch | no new orders until ``release`` |
| ``trimtab release`` | Release | clears the kill switch and any pause (a ``KILL`` file must be removed by hand) |

``trimtab deposit AMOUNT`` and ``trimtab withdraw AMOUNT`` record a cash flow (the dashboard's
``POST /api/flows``): the next cycle credits a paper account with it (a live one is left alone: the user
moved the money) and steers it into the underweight (out of the overweight) classes.

The four brakes act on the journal's halt flag through :class:`trimtab.web.controls.Controls`, the dashboard's own
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
    app.command(
        "deposit", help="Record a deposit in the base currency: the next cycle buys the underweight classes with it."
    )(deposit_command)
    app.command(
        "withdraw",
        help="Record a withdrawal in the base currency: the next cycle sells the overweight classes to cover it.",
    )(withdraw_command)


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


AmountArgument = Annotated[float, typer.Argument(help="How much, in the base currency (a positive number).")]
NoteOption = Annotated[str, typer.Option("--note", help="A note kept with the flow in the journal.")]
ReferenceOption = Annotated[
    str | None,
    typer.Option("--reference", help="Your id for the flow: recording the same reference twice adds it once."),
]
FlowFormatOption = Annotated[str, typer.Option("--format", help="table or json")]


def deposit_command(
    amount: AmountArgument,
    state: StateOption = None,
    config: ConfigOption = None,
    note: NoteOption = "",
    reference: ReferenceOption = None,
    output_format: FlowFormatOption = "table",
) -> None:
    """Record a deposit; paper runs credit it to the paper account, and the next cycle steers it."""
    _flow("deposit", amount, state, config, note, reference, output_format)


def withdraw_command(
    amount: AmountArgument,
    state: StateOption = None,
    config: ConfigOption = None,
    note: NoteOption = "",
    reference: ReferenceOption = None,
    output_format: FlowFormatOption = "table",
) -> None:
    """Record a withdrawal; paper runs debit the paper account, and the next cycle sells the overweights."""
    _flow("withdraw", -amount, state, config, note, reference, output_format)


def _flow(
    command: str,
    signed: float,
    state: str | None,
    config: Path | None,
    note: str,
    reference: str | None,
    output_format: str,
) -> None:
    import json

    from trimtab.web.controls import ActionError

    if output_format not in ("table", "json"):
        raise BadInputError("--format", "", "must be table or json")
    if not signed > 0 if command == "deposit" else not signed < 0:
        raise BadInputError(command, "AMOUNT", "must be a positive number")
    try:
        flow = _controls(state, config).record_flow(signed, note, reference)
    except ActionError as error:
        raise BadInputError("--state", "", str(error)) from None
    if output_format == "json":
        typer.echo(json.dumps(flow))
        return
    said = "recorded" if flow["new"] else "already recorded (same --reference): nothing added"
    typer.echo(f"{flow['kind']} of {abs(flow['amount']):.2f} {flow['asset']} {said} (flow {flow['id']})")
    typer.echo("the next cycle of 'trimtab run' steers it")
