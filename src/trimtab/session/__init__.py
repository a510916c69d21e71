"""The rebalancing session (pure core): the state around the planner, the guards, one rule for every clock."""

from typing import TYPE_CHECKING

from trimtab.lazy import lazy_exports

if TYPE_CHECKING:
    from trimtab.session.session import Decision, GuardSettings, Note, RebalancingSession, history_needed
    from trimtab.session.state import SessionState

__all__ = [
    "Decision",
    "GuardSettings",
    "Note",
    "RebalancingSession",
    "SessionState",
    "history_needed",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "trimtab.session.session": ("Decision", "GuardSettings", "Note", "RebalancingSession", "history_needed"),
        "trimtab.session.state": ("SessionState",),
    },
)
