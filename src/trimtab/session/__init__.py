"""The rebalancing session (pure core): the state around the planner, the guards, one rule for every clock."""

from trimtab.session.session import Decision, GuardSettings, Note, RebalancingSession, history_needed
from trimtab.session.state import SessionState

__all__ = ["Decision", "GuardSettings", "Note", "RebalancingSession", "SessionState", "history_needed"]
