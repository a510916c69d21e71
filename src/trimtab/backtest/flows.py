"""A backtest's cash flows: the policy's ``[[cash_flow]]`` schedule on the bars, and flow-adjusted returns.

A flow is due at the close of the first bar that closes at or after its ``at``; several flows due at one
close add up. A flow at or before the first close (the initial purchase: add it to the capital instead)
or after the last close is skipped and reported as a ``cash_flow_skipped`` event.

Returns with flows are **time-weighted**: the flow ``F_t`` reaches the account at bar ``t``'s close before
that close's trades, so bar ``t``'s return is ``r_t = (E_t - F_t) / E_(t-1) - 1``, the growth of the money
that was invested over the bar; the fees of the trades that steer the flow count in it. The flow-adjusted
equity curve starts at the first bar's equity and compounds those returns,
``A_t = A_(t-1) x (1 + r_t)``: it is the curve the book would have drawn without flows. The time-weighted
return is ``A_T / capital - 1`` (the initial purchase's costs count, as in ``total_return``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from trimtab.errors import BadInputError
from trimtab.feed.table import to_ns
from trimtab.policy.config import CashFlowConfig, Policy

FloatArray = npt.NDArray[np.float64]
Scheduled = dict[int, list[tuple[int, CashFlowConfig]]]


def schedule_flows(policy: Policy, close_times: npt.NDArray[np.int64]) -> tuple[Scheduled, list[dict[str, Any]]]:
    """The policy's flows by the bar whose close they are due at, and an event for each flow skipped.

    Parameters
    ----------
    policy:
        The policy and its ``[[cash_flow]]`` schedule.
    close_times:
        The bars' close times, int64 nanoseconds UTC, ascending.

    Returns
    -------
    tuple[dict[int, list[tuple[int, CashFlowConfig]]], list[dict]]
        Bar index -> ``(index in the schedule, flow)`` pairs, and the ``cash_flow_skipped`` events.
    """
    scheduled: Scheduled = {}
    skipped: list[dict[str, Any]] = []
    bars = close_times.shape[0]
    for index, flow in enumerate(policy.cash_flows):
        bar = int(np.searchsorted(close_times, to_ns(flow.at), "left"))
        if 0 < bar < bars:
            scheduled.setdefault(bar, []).append((index, flow))
            continue
        where = "at or before the first close (add it to the capital)" if bar == 0 else "after the last close"
        skipped.append(
            {
                "kind": "cash_flow_skipped",
                "timestamp": _iso(flow.at),
                "amount": flow.amount,
                "reason": f"cash_flow[{index}] is {where}: not applied",
            }
        )
    return scheduled, skipped


def flow_event(
    index: int, flow: CashFlowConfig, bar: int, moment: datetime, base: str, equity: float
) -> dict[str, Any]:
    """The ``cash_flow`` event of the schedule's flow ``index`` reaching the account at ``bar``'s close.

    Raises
    ------
    BadInputError
        If the flow is a withdrawal of ``equity`` (the account's equity before it) or more.
    """
    if -flow.amount >= equity:
        raise BadInputError(
            "--policy",
            f"cash_flow[{index}].amount",
            f"a withdrawal of {-flow.amount:.2f} at {_iso(moment)} takes the whole equity ({equity:.2f}) or more",
        )
    kind = "deposit" if flow.amount > 0 else "withdrawal"
    return {
        "kind": "cash_flow",
        "timestamp": _iso(moment),
        "bar": bar,
        "amount": flow.amount,
        "reason": f"{kind} of {abs(flow.amount):.2f} {base} scheduled at {_iso(flow.at)}",
    }


def flow_adjusted(equity: FloatArray, flows: FloatArray) -> FloatArray:
    """The equity curve with the flows taken out (time-weighted; see the module docstring).

    Parameters
    ----------
    equity:
        Equity after each bar's flows and trades, shape (T,).
    flows:
        The flow that reached the account at each bar's close (deposits > 0), shape (T,); the first is 0.

    Returns
    -------
    numpy.ndarray
        ``A`` with ``A_0 = E_0`` and ``A_t = A_(t-1) x (E_t - F_t) / E_(t-1)``.
    """
    equity = np.asarray(equity, dtype=np.float64)
    if equity.shape[0] < 2:
        return equity.copy()
    growth = (equity[1:] - flows[1:]) / equity[:-1]
    return np.concatenate(([equity[0]], equity[0] * np.cumprod(growth)))


def time_weighted_return(equity: Sequence[float], flows: Sequence[float], capital: float) -> float:
    """``A_T / capital - 1`` for the flow-adjusted curve ``A`` of ``equity`` and ``flows``."""
    adjusted = flow_adjusted(np.asarray(equity, dtype=np.float64), np.asarray(flows, dtype=np.float64))
    return float(adjusted[-1]) / capital - 1.0 if adjusted.shape[0] else 0.0


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
