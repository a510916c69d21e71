"""Keeps Numba's disk cache of the kernel modules true to their sources, all of them together.

Numba keys a cached function on its own module's file only, yet the kernel compiles in functions from
its sibling modules (``kernel.py`` calls ``kernel_goals`` and ``kernel_curve``; ``kernel_batch.py``
compiles ``kernel.simulate_window`` in, with its constants). After an edit or an update of one of them,
the others' cached code would be stale: wrong figures or an index error at run time. So before any
kernel function runs, :func:`check` compares a fingerprint of every ``kernel*.py`` source with the one
recorded beside the cache, and when they differ it removes the cached kernel code (Numba compiles it
again, once) and records the new fingerprint. It costs a fraction of a millisecond. A cache folder that
cannot be written is left alone.

:func:`load_quickly` gives the kernel's entry points a cache that loads their compiled code without
first loading every extension Numba knows of (:class:`KernelCache`): about 0.2 s of a process's start.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from numba.core.caching import FunctionCache
from numba.core.runtime.nrt import rtsys

MARKER = "kernel-sources.sha256"


def fingerprint(folder: Path) -> str:
    """SHA-256 over the names and bytes of the ``kernel*.py`` files in ``folder``."""
    digest = hashlib.sha256()
    for source in sorted(folder.glob("kernel*.py")):
        digest.update(source.name.encode("utf-8"))
        digest.update(source.read_bytes())
    return digest.hexdigest()


def cache_folders(folder: Path) -> list[Path]:
    """Where Numba keeps the cache of modules in ``folder``: ``__pycache__`` beside them, and under
    ``NUMBA_CACHE_DIR`` when that is set."""
    folders = [folder / "__pycache__"]
    override = os.environ.get("NUMBA_CACHE_DIR")
    if override:
        folders += [path for path in Path(override).rglob("*") if path.is_dir() and path.name == folder.name]
    return folders


def check(folder: Path) -> bool:
    """Drop the cached kernel code under ``folder``'s caches if the sources changed; True when it did."""
    current = fingerprint(folder)
    dropped = False
    for cache in cache_folders(folder):
        marker = cache / MARKER
        try:
            if marker.is_file() and marker.read_text(encoding="utf-8").strip() == current:
                continue
            if not cache.is_dir():
                continue
            for stale in list(cache.glob("kernel*.nbi")) + list(cache.glob("kernel*.nbc")):
                stale.unlink(missing_ok=True)
                dropped = True
            marker.write_text(current + "\n", encoding="utf-8")
        except OSError:
            continue  # a read-only installation: nothing to keep in step
    return dropped


class KernelCache(FunctionCache):
    """Numba's disk cache of a function, loading its compiled code without a full refresh of the target.

    Before it reads a cached function, Numba loads every typing and lowering registry it has (arrays,
    strings, sets, typed containers, random generators, cffi...): about 0.2 s of CPU, which is most of
    a backtest's first call, and none of it is needed to run code that is already compiled and linked.
    Only the runtime that compiled code calls (allocation, reference counts) must be ready, so that is
    all this cache initialises. A miss compiles as usual, and Numba's compiler does its full refresh
    then. The parallel batch kernel is fine too: its threading layer starts from the library itself.
    """

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)  # type: ignore[no-untyped-call]


def load_quickly(*dispatchers: Any) -> None:
    """Give each Numba dispatcher compiled with ``cache=True`` a :class:`KernelCache` (same files)."""
    if not all(hasattr(FunctionCache, name) for name in ("_load_overload", "_guard_against_spurious_io_errors")):
        return  # another Numba's internals: keep its own loading
    for dispatcher in dispatchers:
        if isinstance(getattr(dispatcher, "_cache", None), FunctionCache):
            dispatcher._cache = KernelCache(dispatcher.py_func)  # type: ignore[no-untyped-call]
