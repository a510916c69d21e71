"""Wiring: the run loop, its guards, the single-instance lock, the kill switch and reconciliation."""
