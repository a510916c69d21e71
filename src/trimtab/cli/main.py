"""Entry point: builds the Typer application and maps errors to exit statuses.

Exit statuses (the README's table): 0 success; 1 an error that needs a person (a bug, a refusal, a key the
exchange rejects); 2 bad input (one line on stderr naming file and field); 3 the journal is held by another
run; 4 a network failure (the exchange or the journal's database could not be reached: trying again later
may work); 130 interrupted.
"""

from __future__ import annotations

import sys

from trimtab.cli.startup import freeze_at_exit, one_blas_thread, pause_collection

pause_collection()  # before typer and the rest load: see trimtab.cli.startup
one_blas_thread()
freeze_at_exit()

import typer  # noqa: E402
from typer.exceptions import TyperException  # noqa: E402

from trimtab import __version__  # noqa: E402
from trimtab.cli.commands import LazyGroup  # noqa: E402
from trimtab.errors import BadInputError, TrimtabError  # noqa: E402

app = typer.Typer(
    cls=LazyGroup,  # each command's module is imported when the command is used (trimtab.cli.commands)
    name="trimtab",
    help="Keeps a crypto portfolio on its target allocation.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trimtab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """trimtab: valuation, tolerance bands, rebalance plans, backtests and a live loop."""


def main(argv: list[str] | None = None) -> None:
    """Run the command line; never shows a traceback for bad input.

    Automatic garbage collection waits while the command starts (:mod:`trimtab.cli.startup`).
    """
    from trimtab.cli.help import readable_help

    pause_collection()

    command = readable_help(typer.main.get_command(app))
    try:
        command.main(args=argv, prog_name="trimtab", standalone_mode=False)
    except BadInputError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(2)
    except _with_click(typer.Exit, "Exit") as exc:
        sys.exit(getattr(exc, "exit_code", 1))
    except _with_click(typer.Abort, "Abort"):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except _with_click(TyperException, "ClickException") as exc:
        # Usage errors (a missing or unknown option, a bad value): typer raises its own bundled click classes.
        line = usage_error_line(exc)
        if line:  # a bare group (``trimtab``, ``trimtab data``) has already printed its help
            print(line, file=sys.stderr)
        sys.exit(2)
    except TrimtabError as exc:
        print(f"trimtab: {exc}", file=sys.stderr)
        sys.exit(error_status(exc))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # an internal error: say so plainly, exit 1
        if error_status(exc) == EXIT_NETWORK:
            print(f"trimtab: network failure: {type(exc).__name__}: {exc}", file=sys.stderr)
            sys.exit(EXIT_NETWORK)
        print(f"trimtab: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


def _with_click(own: type[BaseException], name: str) -> tuple[type[BaseException], ...]:
    """typer's exception class ``own`` and, when click is loaded, click's class ``name``.

    A typer that bundles its own copy of click never loads click (and the command line is spared its
    import); an older typer raises click's own classes.
    """
    click = sys.modules.get("click")
    error = getattr(getattr(click, "exceptions", None), name, None)
    return (own, error) if isinstance(error, type) and issubclass(error, BaseException) else (own,)


EXIT_LOCKED = 3
EXIT_NETWORK = 4


def error_status(exc: BaseException) -> int:
    """The exit status of an error: 3 for a journal held by another run, 4 for a network failure, else 1."""
    from trimtab.app.lock import InstanceLockedError
    from trimtab.errors import RetryableError
    from trimtab.storage.database import JournalUnavailableError

    if isinstance(exc, InstanceLockedError):
        return EXIT_LOCKED
    if isinstance(exc, RetryableError | JournalUnavailableError):
        return EXIT_NETWORK
    ccxt = sys.modules.get("ccxt")
    network = getattr(ccxt, "NetworkError", None) if ccxt is not None else None
    if isinstance(network, type) and isinstance(exc, network):
        return EXIT_NETWORK
    return 1


def usage_error_line(exc: BaseException) -> str:
    """A usage error (unknown or missing option, bad value) as one line naming the command and the flag.

    Bad input is one line on stderr everywhere, so a script can show it as is; click's own display
    spreads it over a usage line, a hint and a blank line.

    Parameters
    ----------
    exc:
        The usage error raised by the command-line parser.

    Returns
    -------
    str
        For example ``trimtab plan: No such option: --bogus (see 'trimtab plan --help')``; empty when the
        error carries no message (a command group called bare, which prints its help instead).
    """
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    message = " ".join(str(message).split())
    if not message:
        return ""
    context = getattr(exc, "ctx", None)
    command = getattr(context, "command_path", "") or "trimtab"
    return f"{command}: {message} (see '{command} --help')"
