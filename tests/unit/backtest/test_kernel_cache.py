"""Numba's cached kernel code is dropped whenever any kernel source changes, and kept otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from trimtab.backtest.kernel_cache import MARKER, check


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "kernel.py").write_text("X = 1\n")
    (tmp_path / "kernel_goals.py").write_text("Y = 2\n")
    (tmp_path / "other.py").write_text("Z = 3\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    return tmp_path, cache


def _cached(cache: Path) -> list[str]:
    for name in ("kernel.simulate-10.py311.nbi", "kernel.simulate-10.py311.1.nbc", "other.f-3.py311.nbi"):
        (cache / name).write_bytes(b"x")
    return sorted(p.name for p in cache.glob("*.nb?"))


def test_a_changed_sibling_drops_every_cached_kernel_function(tmp_path: Path) -> None:
    folder, cache = _tree(tmp_path)
    _cached(cache)
    assert check(folder)  # no fingerprint yet: drop, then record it
    assert sorted(p.name for p in cache.glob("*.nb?")) == ["other.f-3.py311.nbi"]
    assert (cache / MARKER).is_file()

    _cached(cache)
    assert not check(folder)  # unchanged sources: the cache stays
    assert len(list(cache.glob("kernel*.nb?"))) == 2

    (folder / "kernel_goals.py").write_text("Y = 3\n")  # the callee, not the cached module, changed
    assert check(folder)
    assert list(cache.glob("kernel*.nb?")) == []


def test_an_unrelated_module_does_not_drop_the_kernel_cache(tmp_path: Path) -> None:
    folder, cache = _tree(tmp_path)
    check(folder)
    _cached(cache)
    (folder / "other.py").write_text("Z = 4\n")
    assert not check(folder)


def test_a_folder_without_a_cache_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "kernel.py").write_text("X = 1\n")
    assert not check(tmp_path)
    assert not (tmp_path / "__pycache__").exists()


QUICK_MODULE = """
import numpy as np
from numba import njit

from trimtab.backtest.kernel_cache import load_quickly


@njit(cache=True)
def squares(values):
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        out[i] = values[i] * values[i]
    return out


load_quickly(squares)
"""

QUICK_SCRIPT = """
import sys

import numpy as np

import quick

print(quick.squares(np.arange(4.0)).tolist(), sum(quick.squares.stats.cache_hits.values()),
      "numba.np.linalg" in sys.modules)
"""


def test_cached_code_loads_without_numba_loading_every_extension(tmp_path: Path) -> None:
    (tmp_path / "quick.py").write_text(QUICK_MODULE)
    source = Path(__file__).resolve().parents[3] / "src"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(source)])

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", QUICK_SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    # The first process compiles (Numba loads its registries to do so) and writes the cache.
    assert run() == "[0.0, 1.0, 4.0, 9.0] 0 True"
    # The second loads the compiled code from disk: the same squares, and linear algebra (one of the
    # registries a full refresh imports) never loaded.
    assert run() == "[0.0, 1.0, 4.0, 9.0] 1 False"
