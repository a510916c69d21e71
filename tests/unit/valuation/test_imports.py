"""Valuation stays light: importing it pulls in no numerical, data-frame, exchange or web library."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "pandas", "ccxt", "sqlalchemy", "fastapi", "pydantic", "numba")


def test_importing_valuation_loads_no_heavy_library() -> None:
    code = "import sys, trimtab.valuation; print(' '.join(sorted(m for m in sys.modules if '.' not in m)))"
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert "trimtab" in loaded
    assert [name for name in HEAVY if name in loaded] == []
