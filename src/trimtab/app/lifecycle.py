"""Stopping a run on SIGTERM or SIGINT without leaving anything half done.

The first signal asks the run to stop: no further order leaves (the executor sees a halt before its next
order), the cycle in progress finishes its bookkeeping, a wait between cycles ends at once, and the run
exits, releasing its instance lock, with status 0 (SIGTERM) or 130 (SIGINT). Orders already sent are
followed to their end by the cycle as usual; what is still open is settled by the next start's
reconciliation. A second signal abandons the cycle at once: every journal write is one transaction, so
nothing is left half written, and the next start reconciles whatever was in flight.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("trimtab.run")

EXIT_STATUS = {signal.SIGTERM: 0, signal.SIGINT: 130}
"""The exit status of a run stopped by each signal (130 is the shell's convention for Ctrl-C)."""
ABANDON_STATUS = {signal.SIGTERM: 143, signal.SIGINT: 130}
STOPPING_WAIT_S = 1.0
"""The longest wait inside a cycle once a stop is requested."""


class AbandonedRun(SystemExit):
    """A second signal: the cycle in progress is left where it is (the next start reconciles it)."""


class StopSignals:
    """Turns SIGTERM and SIGINT into a stop request, installed from :meth:`install` to :meth:`restore`.

    Parameters
    ----------
    monotonic, nap:
        The clock :meth:`sleep` measures its wait with, and how it naps (injected for tests).
    """

    def __init__(
        self, monotonic: Callable[[], float] = time.monotonic, nap: Callable[[float], None] = time.sleep
    ) -> None:
        self.received: signal.Signals | None = None
        self.monotonic = monotonic
        self.nap = nap
        self._previous: dict[signal.Signals, Any] = {}

    def install(self) -> StopSignals:
        """Handle SIGTERM and SIGINT from now on; outside the main thread (where Python allows no handler) the
        process's own handlers stay in place."""
        if threading.current_thread() is not threading.main_thread():
            return self
        for signum in EXIT_STATUS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def restore(self) -> None:
        """Put back the handlers that were there before :meth:`install`."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        received = signal.Signals(signum)
        if self.received is not None:
            log.warning("%s received again: abandoning the cycle", received.name)
            raise AbandonedRun(ABANDON_STATUS[received])
        self.received = received
        log.warning("%s received: stopping after the cycle in progress (send it again to abandon it)", received.name)

    def stopping(self) -> str | None:
        """Why the run is stopping, or None while it is not."""
        return None if self.received is None else f"stopping: {self.received.name} received"

    @property
    def exit_status(self) -> int:
        """0 when no signal arrived or after SIGTERM, 130 after SIGINT."""
        return 0 if self.received is None else EXIT_STATUS[self.received]

    def cycle_sleep(self, seconds: float) -> None:
        """A wait inside a cycle (a TWAP's spacing, a chase's poll): cut short by a stop request, after which
        each wait lasts at most :data:`STOPPING_WAIT_S`, so the cycle ends soon without polling the venue in a
        tight loop (its callers poll until a deadline on the clock)."""
        if self.received is not None:
            self.nap(min(max(seconds, 0.0), STOPPING_WAIT_S))
            return
        self.sleep(seconds)

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less when a stop is requested meanwhile."""
        deadline = self.monotonic() + max(seconds, 0.0)
        while self.received is None:
            left = deadline - self.monotonic()
            if left <= 0:
                return
            # Short naps: a handler cannot wake a plain sleep early (PEP 475 resumes it).
            self.nap(min(left, 0.2))
