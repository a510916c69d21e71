"""Garbage collection waits while a command starts, and always comes back."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from trimtab.cli import startup


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    startup.resume_collection()
    gc.enable()
    yield
    startup.resume_collection()
    gc.enable()


def test_a_pause_stops_automatic_collection_until_resumed() -> None:
    assert startup.pause_collection(seconds=60.0)
    assert not gc.isenabled()
    startup.resume_collection()
    assert gc.isenabled()


def test_a_pause_ends_by_itself_after_its_time() -> None:
    assert startup.pause_collection(seconds=0.01)
    timer = startup._pause.timer
    assert timer is not None
    timer.join(timeout=10.0)
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    gc.disable()
    assert not startup.pause_collection(seconds=0.01)
    startup.resume_collection()
    assert not gc.isenabled()


def test_a_second_pause_changes_nothing_and_one_resume_ends_both() -> None:
    assert startup.pause_collection(seconds=60.0)
    assert not startup.pause_collection(seconds=60.0)
    startup.resume_collection()
    assert gc.isenabled()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_process_forked_during_the_pause_collects_at_once() -> None:
    assert startup.pause_collection(seconds=60.0)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its collector's state and leave without cleanup
        os.close(read)
        os.write(write, b"1" if gc.isenabled() else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert not gc.isenabled()  # the parent's pause goes on


def test_the_command_line_starts_with_the_collector_paused() -> None:
    script = "import gc; import trimtab.cli.main; print(gc.isenabled())"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _blas_threads(script: str, **variables: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in startup.BLAS_THREAD_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env={**env, **variables}
    )
    return done.stdout.strip()


def test_the_command_line_asks_openblas_for_one_thread_before_numpy_loads() -> None:
    script = "import os, trimtab.cli.main; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    assert _blas_threads(script) == "1"


def test_a_thread_count_the_user_chose_stands() -> None:
    script = "import os, trimtab.cli.main; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    assert _blas_threads(script, OMP_NUM_THREADS="4") == "None"
    assert _blas_threads(script, OPENBLAS_NUM_THREADS="8") == "8"


def test_once_numpy_is_loaded_asking_is_useless_and_nothing_is_set() -> None:
    script = "import os, numpy, trimtab.cli.main; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    assert _blas_threads(script) == "None"


def test_at_exit_the_heap_is_frozen_after_the_other_exit_handlers() -> None:
    # Registered before the command line loads, this handler runs after its own (atexit runs them in reverse).
    script = (
        "import atexit, gc\n"
        "atexit.register(lambda: print(gc.get_freeze_count() > 0))\n"
        "import trimtab.cli.main\n"
        "print(gc.get_freeze_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "True"]
