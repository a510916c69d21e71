"""Running cycles through journal faults: a cut database pauses the cycle, a lost lease ends the run.

* The journal cannot be reached (a cut connection, a restarting server, a full or locked database): the
  cycle is abandoned where it is (every write is one transaction, and an order sent but not yet recorded is
  found by the next reconciliation), one line says so, and the next attempt comes after a backoff that
  doubles up to :data:`MAX_BACKOFF_S`. The process keeps running; the run lease stands meanwhile.
* The lease is lost or the journal file was replaced: :class:`~trimtab.app.lock.LockLostError` or
  :class:`~trimtab.app.lock.JournalReplacedError` ends the run at once, saying why (no order left after it:
  the executor asks the lease before each one).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from trimtab.app.lock import InstanceLock
from trimtab.app.loop import CycleResult, RunLoop
from trimtab.storage import StorageError

log = logging.getLogger("trimtab.run")
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0


@dataclass
class Backoff:
    """Exponential backoff with jitter: 1, 2, 4 ... up to ``ceiling`` seconds, reset after a success."""

    first: float = FIRST_BACKOFF_S
    ceiling: float = MAX_BACKOFF_S
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next(self) -> float:
        delay = min(self.first * 2.0**self.failures, self.ceiling)
        self.failures += 1
        return delay * self.rng.uniform(0.8, 1.0)

    def reset(self) -> None:
        self.failures = 0


class CycleSupervisor:
    """Runs one cycle of ``loop`` at a time, under ``lease``; see the module docstring.

    Parameters
    ----------
    loop, lease:
        The run loop and the lease its process holds.
    sleep:
        How a pause waits (the stop signals' sleep, so SIGTERM ends it).
    """

    def __init__(
        self, loop: RunLoop, lease: InstanceLock, sleep: Callable[[float], None], backoff: Backoff | None = None
    ) -> None:
        self.loop = loop
        self.lease = lease
        self.sleep = sleep
        self.backoff = backoff or Backoff()

    def cycle(self) -> CycleResult | None:
        """One cycle's result, or None when the journal could not be reached (after the backoff's wait).

        Raises
        ------
        LockLostError, JournalReplacedError
            When this run must stop trading for good.
        """
        self.lease.raise_if_lost()
        try:
            result = self.loop.cycle()
        except StorageError as error:
            self.lease.raise_if_lost()
            delay = self.backoff.next()
            log.error("journal fault: %s; cycle paused, next attempt in %.0f s", error, delay)
            self.sleep(delay)
            return None
        self.backoff.reset()
        self.lease.raise_if_lost()
        return result
