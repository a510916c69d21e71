"""Running the command line as a user would, for end-to-end tests: ``python -m trimtab`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 300.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``trimtab ARGS`` and return its exit status and output (never raises on a non-zero status).

    ``env`` replaces the environment (default: this process's); ``stdin`` is fed to standard input (default:
    an empty input, so a prompt sees end of file rather than waiting).
    """
    return subprocess.run(
        [sys.executable, "-m", "trimtab", *map(str, args)],
        cwd=cwd,
        env=dict(os.environ if env is None else env),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
