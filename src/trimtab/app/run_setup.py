"""A run's options (:class:`RunSetup`) and the wired run they become (:class:`Run`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from trimtab.app.clocks import VirtualClock
from trimtab.app.lifecycle import StopSignals
from trimtab.app.loop import Approver, RunLoop
from trimtab.execution.config import ExecutionConfig
from trimtab.storage.state import StateStore
from trimtab.venues.paper import ReplayFeed
from trimtab.venues.ports import Venue

REPLAY_AT = "replay_at"
"""State key: the close time of the last replayed bar, so a restarted replay goes on from the next one."""


@dataclass
class RunSetup:
    """What ``trimtab run`` needs besides the policy and the journal."""

    venue: str = "paper"
    portfolio: Path | None = None
    market: Path | None = None
    data: Path | None = None
    prices: str | None = None
    """Paper on live prices: the ccxt exchange id whose public tickers price the paper venue."""
    at: datetime | None = None
    keys: Path | None = None
    testnet: bool = False
    demo: bool = False
    """The exchange's demo-trading environment (Binance's demo accounts) instead of production."""
    venue_config: Path | None = None
    dry_run: bool = False
    approver: Approver | None = None
    config: ExecutionConfig = field(default_factory=ExecutionConfig)
    signals: StopSignals | None = None
    """SIGTERM/SIGINT turned into a stop request: no order after it, and waits within the cycle end early."""
    lease: Callable[[], str | None] | None = None
    """Why the run may not trade now as far as its journal lease goes (lost, journal replaced), or None."""

    def stopping(self) -> str | None:
        """Why no further order may leave: a stop signal or the lease; None while the run may trade."""
        if self.signals is not None and (reason := self.signals.stopping()) is not None:
            return reason
        return self.lease() if self.lease is not None else None


@dataclass
class Run:
    """A wired run: the loop, and the replay feed when history is replayed."""

    loop: RunLoop
    venue: Venue
    feed: ReplayFeed | None
    clock: Callable[[], datetime]
    state: StateStore

    def advance(self) -> bool:
        """After a cycle of a replay: remember the bar and move to the next; False at the end of the data."""
        if self.feed is None:
            return True
        self.state.set(REPLAY_AT, self.feed.snapshot().timestamp.isoformat())
        moved = self.feed.advance()
        if isinstance(self.clock, VirtualClock):
            self.clock.reset()
        return moved


def wall_sleep(setup: RunSetup) -> Callable[[float], None]:
    """``time.sleep``, cut short once a stop is requested (a TWAP's or a chase's wait does not hold the exit)."""
    return setup.signals.cycle_sleep if setup.signals is not None else time.sleep
