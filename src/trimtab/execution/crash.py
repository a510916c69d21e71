"""Named crash points for fault-injection tests: ``TRIMTAB_CRASH_AT=<point>[:<n>]`` kills the process.

The process sends itself SIGKILL at the ``n``-th time (default 1st) it reaches the point, so nothing is
flushed or rolled back: exactly what a power cut or an OOM kill does. Points:

* ``after_intent``: the order row is committed, the request has not left.
* ``after_accept``: the venue accepted the order, its answer is not saved.
* ``between_legs``: one leg of the plan is done, the next has not started.
* ``after_fill``: a fill is journaled, the order's final state is not.
* ``fills_read``: the venue's answer and the order's trades are read, nothing of them is journaled yet.
* ``mid_create``: a new journal's schema is half created (the first start).

Unset (the normal case) it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "TRIMTAB_CRASH_AT"
_seen: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Kill the process here if ``TRIMTAB_CRASH_AT`` names this point (and this is the chosen occurrence)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
