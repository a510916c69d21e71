"""The planner's goals and band-edge sizing on arrays, for the Numba kernel.

Each function mirrors one of :mod:`trimtab.planner.goals` or :mod:`trimtab.planner.sizing` step for step
(same order of operations), so the kernel reaches the planner's numbers; ``tests/integration/backtest``
holds them together.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SHIFT_TOLERANCE = 1e-12
"""As :data:`trimtab.planner.goals.SHIFT_TOLERANCE`: weight differences below this are noise."""
COST_TOLERANCE = 1e-15
"""As :data:`trimtab.planner.goals.COST_TOLERANCE`."""
COST_ROUNDS = 50
"""As :data:`trimtab.planner.goals.COST_ROUNDS`."""


@njit(cache=True, nogil=True, error_model="numpy")
def _water_fill(amount: float, rooms: np.ndarray, candidates: np.ndarray, taken: np.ndarray) -> float:
    """Spread ``amount`` evenly over ``candidates``, none taking more than its room (smallest rooms first).

    The mirror of :func:`trimtab.planner.goals.water_fill`; returns what could not be placed. The classes
    are taken in the order of a stable sort by room (equal rooms by index), each found as the next after
    the previous one in that order, so that the kernel allocates nothing.
    """
    count = 0
    for c in range(rooms.shape[0]):
        taken[c] = 0.0
        if candidates[c] and rooms[c] > SHIFT_TOLERANCE:
            count += 1
    remaining = amount
    previous = -1
    for position in range(count):
        if remaining <= SHIFT_TOLERANCE:
            break
        c = _next_by_room(rooms, candidates, previous)
        share = remaining / (count - position)
        take = share if share < rooms[c] else rooms[c]
        taken[c] = take
        remaining -= take
        previous = c
    return remaining if remaining > 0.0 else 0.0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _next_by_room(rooms: np.ndarray, candidates: np.ndarray, previous: int) -> int:
    """The eligible class after ``previous`` (-1: the first) in order of (room, index)."""
    best = -1
    for c in range(rooms.shape[0]):
        if not (candidates[c] and rooms[c] > SHIFT_TOLERANCE):
            continue
        if previous >= 0 and (rooms[c] < rooms[previous] or (rooms[c] == rooms[previous] and c <= previous)):
            continue
        if best < 0 or rooms[c] < rooms[best]:
            best = c
    return best


@njit(cache=True, nogil=True, error_model="numpy")
def _cash_remainder(goals: np.ndarray, cash_class: int) -> float:
    total = 0.0
    for c in range(goals.shape[0]):
        if c != cash_class:
            total += goals[c]
    return 1.0 - total


@njit(cache=True, nogil=True, error_model="numpy")
def _shift_into_cash_band(
    goals: np.ndarray,
    targets: np.ndarray,
    half_widths: np.ndarray,
    cash_class: int,
    candidates: np.ndarray,
    rooms: np.ndarray,
    taken: np.ndarray,
    cost: float,
) -> float:
    """Mirror of the planner's shift: move ``candidates`` within their bands (after a trading cost of
    ``cost``) until cash is in its band."""
    n_classes = goals.shape[0]
    remainder = _cash_remainder(goals, cash_class)
    band_upper = targets[cash_class] + half_widths[cash_class]
    band_lower = targets[cash_class] - half_widths[cash_class]
    cash_upper = band_upper + cost * (1.0 - band_upper)
    cash_lower = band_lower + cost * (1.0 - band_lower)
    kept = 1.0 - cost
    if remainder > cash_upper:
        for c in range(n_classes):
            room = (targets[c] + half_widths[c]) * kept - goals[c]
            rooms[c] = room if room > 0.0 else 0.0
        left = _water_fill(remainder - cash_upper, rooms, candidates, taken)
        for c in range(n_classes):
            if taken[c] != 0.0:
                goals[c] += taken[c]
        return left
    if remainder < cash_lower:
        for c in range(n_classes):
            room = goals[c] - (targets[c] - half_widths[c]) * kept
            rooms[c] = room if room > 0.0 else 0.0
        left = _water_fill(cash_lower - remainder, rooms, candidates, taken)
        for c in range(n_classes):
            if taken[c] != 0.0:
                goals[c] -= taken[c]
        return left
    return 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _edge_goals(
    weights: np.ndarray,
    targets: np.ndarray,
    half_widths: np.ndarray,
    cash_class: int,
    in_scope: np.ndarray,
    outside: np.ndarray,
    any_outside: bool,
    cost: float,
    goals: np.ndarray,
    rooms: np.ndarray,
    taken: np.ndarray,
) -> None:
    """One round of the band-edge goals for a trading cost of ``cost``: the mirror of the planner's."""
    kept = 1.0 - cost
    for c in range(weights.shape[0]):
        goals[c] = weights[c]
        if in_scope[c]:
            lower = (targets[c] - half_widths[c]) * kept
            upper = (targets[c] + half_widths[c]) * kept
            goal = weights[c] if weights[c] > lower else lower
            goals[c] = goal if goal < upper else upper
    left = _shift_into_cash_band(goals, targets, half_widths, cash_class, in_scope, rooms, taken, cost)
    if left > SHIFT_TOLERANCE and any_outside:
        _shift_into_cash_band(goals, targets, half_widths, cash_class, outside, rooms, taken, cost)


@njit(cache=True, nogil=True, error_model="numpy")
def goals_for_rebalance(
    weights: np.ndarray,
    targets: np.ndarray,
    half_widths: np.ndarray,
    cash_class: int,
    scope_breached: bool,
    band_edge: bool,
    goals: np.ndarray,
    moving: np.ndarray,
    cost_rate: float,
    in_scope: np.ndarray,
    rooms: np.ndarray,
    taken: np.ndarray,
    outside: np.ndarray,
) -> None:
    """Goal weight of every class and which non-cash classes trade.

    The mirror of :func:`trimtab.planner.goals.compute_goals` (scope widening and water-filling included);
    ``cost_rate`` is every class's fee plus slippage per unit of notional, which band-edge goals must hold
    after (:func:`trimtab.planner.goals.edge_goals_after_costs`). ``in_scope``, ``rooms``, ``taken`` and
    ``outside`` are the caller's scratch arrays of shape (C,) (booleans, floats, floats, booleans), so
    that the kernel allocates nothing.
    """
    n_classes = weights.shape[0]
    for c in range(n_classes):
        in_scope[c] = False
        goals[c] = weights[c]
        if c == cash_class:
            continue
        breached = abs(weights[c] - targets[c]) > half_widths[c]
        in_scope[c] = (not scope_breached) or breached
    if not band_edge:
        for c in range(n_classes):
            if in_scope[c]:
                goals[c] = targets[c]
        if scope_breached:
            remainder = _cash_remainder(goals, cash_class)
            if abs(remainder - targets[cash_class]) > half_widths[cash_class]:
                for c in range(n_classes):
                    if c != cash_class:
                        in_scope[c] = True
                        goals[c] = targets[c]
        for c in range(n_classes):
            moving[c] = in_scope[c]
    else:
        any_outside = False
        for c in range(n_classes):
            rooms[c] = 0.0
            taken[c] = 0.0
            outside[c] = False
            if c != cash_class and not in_scope[c]:
                outside[c] = True
                any_outside = True
        cost = 0.0
        _edge_goals(
            weights, targets, half_widths, cash_class, in_scope, outside, any_outside, cost, goals, rooms, taken
        )
        for _ in range(COST_ROUNDS):
            spent = 0.0
            for c in range(n_classes):
                if c != cash_class:
                    spent += cost_rate * abs(goals[c] - weights[c])
            if abs(spent - cost) <= COST_TOLERANCE:
                break
            cost = spent
            _edge_goals(
                weights, targets, half_widths, cash_class, in_scope, outside, any_outside, cost, goals, rooms, taken
            )
        for c in range(n_classes):
            moving[c] = c != cash_class and abs(goals[c] - weights[c]) > SHIFT_TOLERANCE
    goals[cash_class] = _cash_remainder(goals, cash_class)


@njit(cache=True, nogil=True, error_model="numpy")
def minimal_turnover(changes: np.ndarray, class_of: np.ndarray, moving: np.ndarray) -> None:
    """Band-edge sizing: each moving class trades only its net change, on the assets moving with it.

    The mirror of :func:`trimtab.planner.sizing.minimal_turnover`, applied class by class in place.
    """
    for c in range(moving.shape[0]):
        if not moving[c]:
            continue
        total = 0.0
        for a in range(changes.shape[0]):
            if class_of[a] == c:
                total += changes[a]
        along = 0.0
        for a in range(changes.shape[0]):
            if class_of[a] == c and changes[a] != 0.0 and (changes[a] > 0.0) == (total > 0.0):
                along += changes[a]
        scale = total / along if total != 0.0 else 0.0
        for a in range(changes.shape[0]):
            if class_of[a] != c:
                continue
            if total != 0.0 and changes[a] != 0.0 and (changes[a] > 0.0) == (total > 0.0):
                changes[a] = changes[a] * scale
            else:
                changes[a] = 0.0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def rebalance_changes(
    weights: np.ndarray,
    targets: np.ndarray,
    half_widths: np.ndarray,
    cash_class: int,
    scope_breached: bool,
    band_edge: bool,
    cost_rate: float,
    class_of: np.ndarray,
    split: np.ndarray,
    equity: float,
    values: np.ndarray,
    changes: np.ndarray,
    goals: np.ndarray,
    moving: np.ndarray,
    in_scope: np.ndarray,
    rooms: np.ndarray,
    taken: np.ndarray,
    outside: np.ndarray,
) -> None:
    """The change of every asset's value a rebalance asks for, into ``changes``: the classes' goals
    (:func:`goals_for_rebalance`), each moving class's goal shared among its assets by ``split``, and, for
    band-edge goals, only each class's net change (:func:`minimal_turnover`). The kernel's main loop and the
    lockstep batch both rebalance through it."""
    goals_for_rebalance(
        weights,
        targets,
        half_widths,
        cash_class,
        scope_breached,
        band_edge,
        goals,
        moving,
        cost_rate,
        in_scope,
        rooms,
        taken,
        outside,
    )
    for a in range(class_of.shape[0]):
        c = class_of[a]
        changes[a] = split[a] * (goals[c] * equity) - values[a] if moving[c] else 0.0
    if band_edge:
        minimal_turnover(changes, class_of, moving)
