"""CI runs the README's two commands, in the order a newcomer does, on a fresh clone."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ci_runs_make_demo_then_make_test_the_readme_commands() -> None:
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    makes = [c for c in commands if re.search(r"\bmake\b", c)]
    assert makes == ["make demo", "exec make test"]
    assert "set -euo pipefail" in commands  # a failing demo fails CI
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == ["make demo", "make test"]
