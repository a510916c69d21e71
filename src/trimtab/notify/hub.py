"""The hub the run loop publishes to: rate-limited, coalescing, and never raising into the loop.

``publish`` only appends to each channel's queue and returns at once. Delivery happens in :meth:`pump`,
called by a background thread (:meth:`start`) or by the caller: per channel, a token bucket allows a burst
and then one message per interval; events that arrive while a channel waits are coalesced into one
message (a count per kind and the newest lines), so a failing loop that reports an error every second
sends a handful of messages, not thousands. A channel that fails backs off (doubling, up to a limit)
and the failed batch is dropped and counted, never retried in a tight loop. The queue per channel is
bounded; beyond it the oldest events are dropped and counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trimtab.notify.channels import Notifier, NotifyError
from trimtab.notify.events import KINDS, Event, events_from_cycle
from trimtab.notify.ratelimit import TokenBucket

log = logging.getLogger(__name__)

MAX_PENDING = 500
MAX_BATCH = 200


@dataclass(frozen=True)
class RateLimit:
    """A burst of ``burst`` messages, then one per ``interval`` seconds; failures back off up to ``max_backoff``."""

    burst: int = 5
    interval: float = 60.0
    backoff: float = 30.0
    max_backoff: float = 900.0


@dataclass
class ChannelStats:
    """What a channel did: messages sent and failed, events delivered, coalesced and dropped."""

    messages: int = 0
    failures: int = 0
    events: int = 0
    coalesced: int = 0
    dropped: int = 0
    last_error: str = ""


@dataclass
class Channel:
    """One notifier with its bucket, queue, subscription and back-off state."""

    notifier: Notifier
    bucket: TokenBucket
    kinds: frozenset[str]
    pending: deque[Event] = field(default_factory=deque)
    stats: ChannelStats = field(default_factory=ChannelStats)
    backoff_until: float = 0.0
    failures_in_row: int = 0


class NotificationHub:
    """Fans events out to notifiers with rate limiting and coalescing.

    Parameters
    ----------
    notifiers:
        The channels; each may be given with the kinds it wants (``(notifier, {"trade", "error"})``).
    rate:
        Burst, interval and back-off, shared by every channel (each has its own bucket).
    clock:
        A monotonic clock in seconds.
    """

    def __init__(
        self,
        notifiers: Iterable[Notifier | tuple[Notifier, Iterable[str]]] = (),
        rate: RateLimit | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.rate = rate or RateLimit()
        self.clock = clock
        self.max_pending = max_pending
        self.channels: list[Channel] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._busy = 0
        self._halted = False
        for item in notifiers:
            notifier, kinds = item if isinstance(item, tuple) else (item, KINDS)
            self.add(notifier, kinds)

    def add(self, notifier: Notifier, kinds: Iterable[str] = KINDS) -> None:
        """Add a channel subscribed to ``kinds``."""
        wanted = frozenset(kinds)
        unknown = wanted - set(KINDS)
        if unknown:
            raise ValueError(f"unknown event kinds {sorted(unknown)}")
        bucket = TokenBucket(float(self.rate.burst), self.rate.interval, self.clock)
        with self._lock:
            self.channels.append(Channel(notifier, bucket, wanted))

    # -- the loop's side ---------------------------------------------------------------------------------
    def publish(self, event: Event) -> None:
        """Queue ``event`` for every channel subscribed to its kind; returns at once and never raises."""
        try:
            with self._lock:
                for channel in self.channels:
                    if event.kind not in channel.kinds:
                        continue
                    if len(channel.pending) >= self.max_pending:
                        channel.pending.popleft()
                        channel.stats.dropped += 1
                    channel.pending.append(event)
                self._wake.notify_all()
        except Exception:  # a notification must never stop a trading loop
            log.exception("could not queue a notification")

    def notify(self, kind: str, text: str, **data: Any) -> None:
        """Publish an event made of ``kind``, ``text`` and details; a bad kind is logged, not raised."""
        try:
            self.publish(Event(kind, text, data=data))
        except Exception:
            log.exception("could not build a notification")

    def publish_cycle(self, report: Mapping[str, Any]) -> None:
        """Publish the events of one cycle report (``trimtab run --format json``'s line); never raises.

        The halt is announced when it starts and when it ends, not at every halted cycle: a loop halted
        for a day would otherwise repeat the same message all day.
        """
        try:
            events = events_from_cycle(report)
            halted = bool(report.get("halted"))
            was_halted, self._halted = self._halted, halted
            if halted and was_halted:
                events = [event for event in events if event.kind != "kill"]
            elif not halted and was_halted:
                cycle = report.get("cycle")
                events.insert(0, Event("kill", f"cycle {cycle}: the halt is lifted; orders may be sent again"))
        except Exception:
            log.exception("could not read a cycle report for notifications")
            return
        for event in events:
            self.publish(event)

    # -- delivery ----------------------------------------------------------------------------------------
    def pump(self) -> int:
        """Send what the buckets allow now; returns how many messages were sent. Never raises."""
        sent = 0
        for channel in list(self.channels):
            batch = self._take_batch(channel)
            if not batch:
                continue
            try:
                channel.notifier.send(batch)
            except NotifyError as error:
                self._failed(channel, batch, str(error))
            except Exception as error:  # a notifier's bug must not reach the loop either
                self._failed(channel, batch, f"{type(error).__name__}")
            else:
                with self._lock:
                    channel.stats.messages += 1
                    channel.stats.events += len(batch)
                    channel.stats.coalesced += len(batch) - 1
                    channel.failures_in_row = 0
                sent += 1
            finally:
                with self._lock:
                    self._busy -= 1
                    self._wake.notify_all()
        return sent

    def _take_batch(self, channel: Channel) -> list[Event]:
        with self._lock:
            if not channel.pending or self.clock() < channel.backoff_until or not channel.bucket.take():
                return []
            count = min(len(channel.pending), MAX_BATCH)
            batch = [channel.pending.popleft() for _ in range(count)]
            if channel.pending:
                # More than one message's worth: what does not fit is summarised away, not queued forever.
                channel.stats.dropped += len(channel.pending)
                channel.pending.clear()
            self._busy += 1
            return batch

    def _failed(self, channel: Channel, batch: Sequence[Event], message: str) -> None:
        with self._lock:
            channel.stats.failures += 1
            channel.stats.dropped += len(batch)
            channel.stats.last_error = message
            channel.failures_in_row += 1
            delay = min(self.rate.max_backoff, self.rate.backoff * 2 ** (channel.failures_in_row - 1))
            channel.backoff_until = self.clock() + delay
        log.warning("notification not delivered: %s (next try in %.0f s)", message, delay)

    def next_due(self) -> float | None:
        """Seconds until a channel with pending events may send (None when nothing waits)."""
        with self._lock:
            waits = []
            now = self.clock()
            for channel in self.channels:
                if channel.pending:
                    waits.append(max(channel.backoff_until - now, channel.bucket.wait_time(), 0.0))
            return min(waits) if waits else None

    def pending(self) -> int:
        with self._lock:
            return sum(len(channel.pending) for channel in self.channels) + self._busy

    # -- background thread -------------------------------------------------------------------------------
    def start(self) -> NotificationHub:
        """Deliver from a daemon thread from now on; returns the hub."""
        with self._lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="trimtab-notify", daemon=True)
                self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            due = self.next_due()
            with self._lock:
                if self._stopping:
                    return
                if due is None or due > 0:
                    self._wake.wait(timeout=1.0 if due is None else min(due, 1.0))
                if self._stopping:
                    return
            self.pump()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queue is empty (sent, dropped or coalesced); False when ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._thread is None:
                self.pump()
            if self.pending() == 0:
                return True
            time.sleep(0.01)
        return self.pending() == 0

    def close(self, timeout: float = 2.0) -> None:
        """Stop the background thread (events still queued are left undelivered)."""
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
            thread = self._thread
            self._thread = None
        if thread is not None:
            thread.join(timeout)

    def stats(self) -> dict[str, ChannelStats]:
        """Per channel (by notifier name), what was sent, failed, coalesced and dropped."""
        with self._lock:
            return {channel.notifier.name: channel.stats for channel in self.channels}
