"""Readable help: option placeholders in words (FILE, URL, SECONDS), not Python type names (``<bool>``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

PLACEHOLDERS = {
    "--policy": "FILE",
    "--portfolio": "FILE",
    "--market": "FILE",
    "--execution": "FILE",
    "--keys": "FILE",
    "--venue-config": "FILE",
    "--notify": "FILE",
    "--config": "FILE",
    "--report": "FILE",
    "--output": "FILE",
    "--token-file": "FILE",
    "--data": "FOLDER",
    "--reports": "FOLDER",
    "--state": "URL",
    "--format": "text|json",
    "--start": "TIME",
    "--end": "TIME",
    "--at": "TIME",
    "--last-rebalance": "TIME",
    "--interval": "SECONDS",
    "--refresh": "SECONDS",
    "--cycles": "N",
    "--port": "N",
    "--workers": "N",
    "--capital": "AMOUNT",
    "--venue": "ID",
    "--host": "ADDRESS",
    "--allowed-host": "NAME",
    "--grid": "NAME=VALUES",
    "--timeframe": "1h|1d|...",
    "--reason": "TEXT",
    "--ray-address": "ADDRESS",
}
"""The placeholder shown after each option that takes a value, by the option's name."""

BY_TYPE = {"Path": "PATH", "str": "TEXT", "int": "N", "float": "NUMBER", "bool": ""}


def readable_help(command: Any) -> Any:
    """Give every option of ``command`` (and of its subcommands) a placeholder in words; returns ``command``.

    A flag (``--once``) shows none; an option that takes a value shows what to write (``--state URL``,
    ``--policy FILE``), from :data:`PLACEHOLDERS`, else from its type (``PATH``, ``TEXT``, ``N``).
    """
    make_help = getattr(command, "get_help_option", None)
    if callable(make_help):
        # Made (and cached) now, so that it too gets no type name; -h and --help, as the root's settings say.
        help_option = make_help(SimpleNamespace(help_option_names=["-h", "--help"]))
        if help_option is not None:
            help_option.metavar = ""
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "argument":
            # Its name already says what it is (FOLDER, FILES...): no type name beside it.
            param.display_type_rich = lambda ctx: None
            continue
        if param.metavar is not None:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
            continue
        long_names = [name for name in param.opts if name.startswith("--")]
        named = next((PLACEHOLDERS[name] for name in long_names if name in PLACEHOLDERS), None)
        bare = getattr(param, "bare_type", None)
        kind = bare() if callable(bare) else ""
        param.metavar = named or BY_TYPE.get(kind.removeprefix("list[").removesuffix("]"), "VALUE")
    commands = getattr(command, "commands", {})
    if isinstance(commands, dict):  # a lazy table (trimtab.cli.commands) makes each command readable as built
        for sub in commands.values():
            readable_help(sub)
    return command
