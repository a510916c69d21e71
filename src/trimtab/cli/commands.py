"""The command table: each command's name and the module that registers it, built when first used.

typer builds a click command from a function's signature (its type hints, its options' converters); for
every command of the application that cost most of a command line's start-up beyond the one it runs.
The root group's commands are therefore a :class:`LazyCommands` table: running ``trimtab backtest``
imports ``trimtab.cli.backtest`` and builds that module's commands only; the root's help builds them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from functools import cache
from typing import Any

import typer
from typer.core import TyperGroup

from trimtab.cli.help import readable_help

COMMANDS = {
    "plan": "trimtab.cli.plan",
    "backtest": "trimtab.cli.backtest",
    "compare": "trimtab.cli.backtest",
    "sweep": "trimtab.cli.backtest",
    "serve": "trimtab.cli.serve",
    "run": "trimtab.cli.run",
    "status": "trimtab.cli.status",
    "orders": "trimtab.cli.status",
    "pause": "trimtab.cli.controls",
    "resume": "trimtab.cli.controls",
    "kill": "trimtab.cli.controls",
    "release": "trimtab.cli.controls",
    "deposit": "trimtab.cli.controls",
    "withdraw": "trimtab.cli.controls",
    "init": "trimtab.cli.init",
    "snapshot": "trimtab.cli.snapshot",
    "data": "trimtab.cli.data",
}
"""Every command, in the order of the help, and the module whose ``register(app)`` adds it."""


@cache
def module_commands(module: str) -> dict[str, Any]:
    """The click commands that ``module``'s ``register(app)`` adds, by name, with readable help."""
    scratch = typer.Typer()
    scratch.callback()(_group)  # a callback makes typer build a group, whose commands come by name
    importlib.import_module(module).register(scratch)
    group = typer.main.get_command(scratch)
    return {name: readable_help(command) for name, command in getattr(group, "commands", {}).items()}


def _group() -> None:
    """The scratch application's callback (never run)."""


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, each built by :func:`module_commands` when first looked up."""

    def __init__(self, modules: dict[str, str]) -> None:
        self._modules = modules
        self._added: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._added:
            return self._added[name]
        return module_commands(self._modules[name])[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._added[name] = command

    def __delitem__(self, name: str) -> None:
        del self._added[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._modules
        yield from (name for name in self._added if name not in self._modules)

    def __len__(self) -> int:
        return len(set(self._modules) | set(self._added))


class LazyGroup(TyperGroup):
    """The root group: its commands are the :data:`COMMANDS` table, built one module at a time."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.commands = LazyCommands(COMMANDS)
