"""Backtests on real history: the event engine, the Numba fast path, metrics, reports and sweeps."""
