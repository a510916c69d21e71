"""The command line's start and end: the garbage collector waits while a command loads and skips the heap at
exit, and BLAS runs on one thread.

Starting a command imports typer, pydantic, numpy and numba, builds the policy's models and loads the
kernel's compiled code: a few hundred thousand objects that live as long as the process. The collector
runs every 700 new objects and traverses the young ones each time, and now and then all of them: about
40 ms of CPU in a 0.5 s backtest (18 ms of them while numpy and numba import), none of which frees
anything. So the command line pauses automatic collection while it starts and resumes it
:data:`PAUSE_SECONDS` later (a daemon timer), so a long command (a live loop, an event-engine backtest,
a server) collects as usual. A process forked meanwhile (a sweep's worker)
resumes at once. Reference counting frees everything else as usual: only reference cycles wait.

When the process ends, the interpreter traverses every object it still tracks once more, looking for
cycles, before it tears the modules down: 65 ms of a backtest's 0.48 s of CPU, in memory the process is
about to give back anyway. :func:`freeze_at_exit` moves them out of the collector's reach (``gc.freeze``) as the
process exits, after every ``atexit`` handler registered later has run; modules are still torn down and
objects freed as before.

numpy's OpenBLAS starts a thread per core when numpy loads, and they spin waiting for work: 30 ms of CPU
on two cores, and a start that waits for a free core on a busy machine. trimtab's linear algebra is on
vectors and small matrices, which OpenBLAS computes on one thread anyway, so the command line asks it for
one thread (:func:`one_blas_thread`) unless the user chose a number (``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or ``GOTO_NUM_THREADS``).
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from functools import cache

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "GOTO_NUM_THREADS")
"""What OpenBLAS reads for its number of threads, the first set one winning."""

PAUSE_SECONDS = 1.0
"""The longest the collector waits: the start of a command, not its work."""


class _Pause:
    """The timer that ends the current pause (None when there is none), behind a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None


_pause = _Pause()


def pause_collection(seconds: float = PAUSE_SECONDS) -> bool:
    """Pause automatic garbage collection for at most ``seconds``; True when this call paused it.

    Nothing changes when the collector is already off (paused here or by the caller's own choice).
    """
    with _pause.lock:
        if not gc.isenabled():
            return False
        gc.disable()
        timer = threading.Timer(seconds, resume_collection)
        timer.daemon = True
        _pause.timer = timer
    timer.start()
    return True


def resume_collection() -> None:
    """Resume automatic garbage collection if :func:`pause_collection` paused it (else nothing)."""
    with _pause.lock:
        timer, _pause.timer = _pause.timer, None
        if timer is None:
            return
        timer.cancel()
        gc.enable()


def _resume_in_child() -> None:
    # The timer thread does not survive a fork: a child forked during the pause resumes at once.
    _pause.lock = threading.Lock()
    if _pause.timer is not None:
        _pause.timer = None
        gc.enable()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_resume_in_child)


def one_blas_thread() -> bool:
    """Ask OpenBLAS for one thread when it has not loaded yet and no thread count is set; True if asked."""
    if "numpy" in sys.modules or any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES):
        return False
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    return True


@cache
def freeze_at_exit() -> None:
    """Have the process's last garbage collection skip every object alive at exit (once per process)."""
    atexit.register(gc.freeze)
