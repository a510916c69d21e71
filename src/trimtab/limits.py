"""The ranges every number read from a user's file or flag must fall in, the same in plan, run and backtest.

A finite number outside them (``1e308``) is a typing mistake, and would overflow once multiplied: a price
times an amount must stay a finite float, and so must their sums over thousands of rows.
"""

from __future__ import annotations

MIN_PRICE = 1e-15
MAX_PRICE = 1e15
"""Prices and marks outside this range are typing mistakes; within it, order amounts stay finite floats."""
MAX_AMOUNT = 1e15
"""The largest holding, position, capital, volume or other magnitude accepted (in its own unit)."""
