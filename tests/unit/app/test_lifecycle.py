"""SIGTERM and SIGINT turn into a stop request; a second one abandons the cycle."""

from __future__ import annotations

import os
import signal

import pytest

from trimtab.app.lifecycle import AbandonedRun, StopSignals


def test_a_first_signal_asks_to_stop_and_a_second_abandons_with_the_signals_status() -> None:
    stop = StopSignals().install()
    try:
        assert stop.stopping() is None and stop.exit_status == 0
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.stopping() == "stopping: SIGINT received"
        assert stop.exit_status == 130
        with pytest.raises(AbandonedRun) as abandoned:
            os.kill(os.getpid(), signal.SIGTERM)
        assert abandoned.value.code == 143
    finally:
        stop.restore()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the previous handler is back


def test_sigterm_stops_with_status_zero() -> None:
    stop = StopSignals().install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        stop.restore()
    assert stop.exit_status == 0 and stop.stopping() == "stopping: SIGTERM received"


def test_the_wait_between_cycles_ends_when_a_stop_is_requested() -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 0.05
        if now[0] >= 1.0:
            stop.received = signal.SIGTERM  # as the handler would, part-way through a 1-hour wait
        return now[0]

    stop = StopSignals(monotonic=clock, nap=lambda seconds: None)
    stop.sleep(3600.0)
    assert 1.0 <= now[0] < 1.2


def test_the_wait_lasts_its_time_when_nothing_arrives() -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 0.01
        return now[0]

    StopSignals(monotonic=clock, nap=lambda seconds: None).sleep(0.05)
    assert 0.05 <= now[0] < 0.1


def test_waits_inside_a_cycle_last_at_most_a_second_once_stopping() -> None:
    naps: list[float] = []
    stop = StopSignals(monotonic=lambda: 0.0, nap=naps.append)
    stop.received = signal.SIGTERM
    stop.cycle_sleep(30.0)  # a TWAP's spacing
    stop.cycle_sleep(0.25)  # a poll
    assert naps == [1.0, 0.25]


def test_outside_the_main_thread_nothing_is_installed() -> None:
    import threading

    before = signal.getsignal(signal.SIGTERM)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            StopSignals().install().restore()  # signal.signal would raise ValueError here
        except BaseException as error:  # reported to the main thread
            errors.append(error)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert errors == [] and signal.getsignal(signal.SIGTERM) is before
