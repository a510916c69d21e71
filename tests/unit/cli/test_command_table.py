"""The command table names every command the command modules register, and builds only what is used."""

from __future__ import annotations

import subprocess
import sys

import typer

from trimtab.cli.commands import COMMANDS


def test_the_table_names_every_registered_command_and_its_module() -> None:
    registered: dict[str, str] = {}
    for module in dict.fromkeys(COMMANDS.values()):
        app = typer.Typer()
        __import__(module, fromlist=["register"]).register(app)
        names = [info.name for info in app.registered_commands] + [info.name for info in app.registered_groups]
        registered.update(dict.fromkeys((str(name) for name in names), module))
    assert registered == COMMANDS


def test_running_one_command_builds_only_its_modules_commands() -> None:
    script = (
        "import sys\n"
        "from trimtab.cli.main import main\n"
        "try:\n"
        "    main(['backtest', '--policy', 'missing.txt'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('trimtab.cli.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = done.stdout.strip()
    assert "'trimtab.cli.backtest'" in loaded
    for other in ("run", "serve", "status", "controls", "snapshot", "init"):
        assert f"'trimtab.cli.{other}'" not in loaded, loaded
