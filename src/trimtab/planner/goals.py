"""Goals: which classes a rebalance moves (its scope) and the weight each is moved to.

Two kinds of goal (``[rebalance] to``):

* ``target``: every class of the scope goes to its target.
* ``band-edge``: the weights closest to the current ones, in traded notional (the L1 distance over the
  non-cash classes), at which every class of the scope, the cash class included, sits inside its band.
  Each class of the scope is first clamped into its band; if the cash class (the remainder) is then
  outside its band, the difference is spread evenly (water-filling) over the classes of the scope that
  still have room inside their bands, then over the classes outside the scope. A clamped class never has
  room in the direction that would undo its clamp, so any such spread is L1-optimal; the even spread is a
  deterministic tie-break.

  The edges are those the weights must meet *after* the trades' costs (``cost_rates``: the fee and
  slippage the cost model charges per unit of notional, paid from the base-currency balance): trades of
  ``x_i = (g_i - w_i) x E`` leave the equity at ``(1 - c) x E`` with ``c = sum r_i |g_i - w_i|``, so a
  class's post-trade weight is ``g_i / (1 - c)`` and the cash class's ``(g_cash - c) / (1 - c)``. A goal
  is therefore held to ``[lower x (1 - c), upper x (1 - c)]`` (the cash class's remainder to
  ``[lower + c (1 - lower), upper + c (1 - upper)]``), and ``c`` is found by fixed-point iteration from
  0 (each round's cost grows the moves, which grow the cost; it converges in a few rounds since
  ``c`` is a fee's fraction of the moves). For one class sold from ``V`` to its upper edge ``u`` that is
  the sale ``x = (V - u E) / (1 - u r)``.

Classes with ``band = "auto"`` (``edge``) always go to their band edge: under ``to = "target"`` the other
classes go to their targets and the auto classes are clamped into their bands; if that leaves the cash
class outside its band, the auto classes of the scope absorb the difference as under ``band-edge``.

Two scopes (``[rebalance] scope``): ``all`` moves every class; ``breached`` moves only the breached
non-cash classes, and widens to every class (with a note) when the cash class would still be outside
its band afterwards, or is the only breached class.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from trimtab.policy.bands import Band

Scope = Literal["all", "breached"]
GoalKind = Literal["target", "band-edge"]

SHIFT_TOLERANCE = 1e-12
"""Weight differences below this are rounding noise, not a move."""

COST_TOLERANCE = 1e-15
"""The band-edge cost fraction has converged when a round changes it by less than this."""

COST_ROUNDS = 50
"""At most this many rounds of the band-edge cost iteration (it converges in a handful)."""


@dataclass(frozen=True, slots=True)
class Goals:
    """The goal weight of every class and which non-cash classes move.

    ``goals`` holds every class in the order given (the cash class's goal is the remainder);
    ``moving`` the non-cash classes whose exposure the planner trades; ``notes`` explain any widening.
    """

    goals: dict[str, float]
    moving: tuple[str, ...]
    notes: tuple[str, ...] = ()


def _percent(value: float) -> str:
    return f"{value * 100:.2f} %"


def _cash_remainder(goals: Mapping[str, float], cash: str) -> float:
    return 1.0 - sum(weight for name, weight in goals.items() if name != cash)


def water_fill(amount: float, rooms: Sequence[tuple[str, float]]) -> tuple[dict[str, float], float]:
    """Spread ``amount`` as evenly as possible over classes, none taking more than its room.

    Parameters
    ----------
    amount:
        The non-negative quantity to spread.
    rooms:
        ``(name, room)`` pairs; a room is non-negative.

    Returns
    -------
    tuple[dict[str, float], float]
        What each class takes (only classes that take something) and what could not be placed.
    """
    remaining = amount
    # Smallest rooms first: each takes min(room, fair share), the rest is shared among the others.
    order = sorted((room, index, name) for index, (name, room) in enumerate(rooms) if room > SHIFT_TOLERANCE)
    taken: dict[str, float] = {}
    for position, (room, _, name) in enumerate(order):
        if remaining <= SHIFT_TOLERANCE:
            break
        share = remaining / (len(order) - position)
        take = min(room, share)
        taken[name] = take
        remaining -= take
    return taken, max(remaining, 0.0)


def _shift_into_cash_band(
    goals: dict[str, float], bands: Mapping[str, Band], cash: str, candidates: Sequence[str], cost: float = 0.0
) -> float:
    """Move ``candidates`` inside their bands so that the cash remainder enters its band.

    ``cost`` is the fraction of equity the trades will cost: the edges are those after it (module docstring).
    Returns the weight by which the cash class is still outside its band (0 when it is inside).
    """
    cash_band = bands[cash]
    remainder = _cash_remainder(goals, cash)
    cash_upper = cash_band.upper + cost * (1.0 - cash_band.upper)
    cash_lower = cash_band.lower + cost * (1.0 - cash_band.lower)
    kept = 1.0 - cost
    if remainder > cash_upper:
        # Too much cash: the other classes must grow by the excess.
        excess = remainder - cash_upper
        rooms = [(name, max(bands[name].upper * kept - goals[name], 0.0)) for name in candidates]
        taken, left = water_fill(excess, rooms)
        for name, take in taken.items():
            goals[name] += take
        return left
    if remainder < cash_lower:
        deficit = cash_lower - remainder
        rooms = [(name, max(goals[name] - bands[name].lower * kept, 0.0)) for name in candidates]
        taken, left = water_fill(deficit, rooms)
        for name, take in taken.items():
            goals[name] -= take
        return left
    return 0.0


@dataclass(frozen=True, slots=True)
class _EdgeGoals:
    goals: dict[str, float]
    left: float
    widened: tuple[str, ...]


def _edge_goals(
    weights: Mapping[str, float],
    bands: Mapping[str, Band],
    cash: str,
    in_scope: Sequence[str],
    outside: Sequence[str],
    cost: float,
) -> _EdgeGoals:
    """One round of the band-edge goals for a trading cost of ``cost`` (a fraction of equity)."""
    goals = {name: weights[name] for name in weights if name != cash}
    kept = 1.0 - cost
    for name in in_scope:
        band = bands[name]
        goals[name] = min(max(weights[name], band.lower * kept), band.upper * kept)
    left = _shift_into_cash_band(goals, bands, cash, in_scope, cost)
    widened: tuple[str, ...] = ()
    if left > SHIFT_TOLERANCE and outside:
        before = dict(goals)
        left = _shift_into_cash_band(goals, bands, cash, outside, cost)
        widened = tuple(name for name in outside if abs(goals[name] - before[name]) > SHIFT_TOLERANCE)
    return _EdgeGoals(goals, left, widened)


def edge_goals_after_costs(
    weights: Mapping[str, float],
    bands: Mapping[str, Band],
    cash: str,
    in_scope: Sequence[str],
    cost_rates: Mapping[str, float],
) -> _EdgeGoals:
    """The band-edge goals whose post-trade weights, after the trades' costs, sit at or inside the edges.

    ``cost_rates``: class -> fee plus slippage per unit of notional traded (a class not named costs
    nothing). The cost fraction is iterated from 0 to its fixed point (module docstring).
    """
    names = [name for name in weights if name != cash]
    outside = [name for name in names if name not in in_scope]
    cost = 0.0
    result = _edge_goals(weights, bands, cash, in_scope, outside, cost)
    for _ in range(COST_ROUNDS):
        spent = 0.0
        for name in names:
            spent += cost_rates.get(name, 0.0) * abs(result.goals[name] - weights[name])
        if abs(spent - cost) <= COST_TOLERANCE:
            break
        cost = spent
        result = _edge_goals(weights, bands, cash, in_scope, outside, cost)
    return result


def _to_targets(
    goals: dict[str, float],
    weights: Mapping[str, float],
    bands: Mapping[str, Band],
    names: Sequence[str],
    edge: Collection[str],
) -> None:
    """Each class of ``names`` to its target, or, for a class of ``edge``, into its band."""
    for name in names:
        band = bands[name]
        goals[name] = min(max(weights[name], band.lower), band.upper) if name in edge else band.target


def compute_goals(
    weights: Mapping[str, float],
    bands: Mapping[str, Band],
    cash: str,
    scope: Scope,
    to: GoalKind,
    edge: Collection[str] = (),
    cost_rates: Mapping[str, float] | None = None,
) -> Goals:
    """The goal weight of every class for one rebalance.

    Parameters
    ----------
    weights:
        Class name -> current weight, every class, in the policy's order.
    bands:
        Class name -> band (its ``target`` is the target model's target).
    cash:
        The cash class's name; its goal is always the remainder.
    scope:
        ``"all"`` or ``"breached"``.
    to:
        ``"target"`` or ``"band-edge"``.
    edge:
        Classes traded to their band edge whatever ``to`` says (``band = "auto"``).
    cost_rates:
        Class name -> fee plus slippage per unit of notional traded, for ``band-edge`` goals that must
        hold after the trades' costs (none: costs are ignored).

    Returns
    -------
    Goals
        The goals, the non-cash classes that move, and notes on any widened scope or unreachable band.
    """
    names = [name for name in weights if name != cash]
    breached = [name for name in names if bands[name].breached(weights[name])]
    in_scope = list(names) if scope == "all" else breached
    notes: list[str] = []
    goals = {name: weights[name] for name in names}

    if to == "target":
        _to_targets(goals, weights, bands, in_scope, edge)
        if edge:
            _shift_into_cash_band(goals, bands, cash, [name for name in in_scope if name in edge])
        if scope == "breached" and bands[cash].breached(_cash_remainder(goals, cash)):
            why = (
                "the cash class is the only breached class"
                if not breached
                else f"{cash} would still be outside its band at {_percent(_cash_remainder(goals, cash))}"
            )
            notes.append(f"scope widened to every class: {why}")
            in_scope = list(names)
            _to_targets(goals, weights, bands, in_scope, edge)
            if edge:
                _shift_into_cash_band(goals, bands, cash, [name for name in in_scope if name in edge])
    else:
        edge_goals = edge_goals_after_costs(weights, bands, cash, in_scope, cost_rates or {})
        goals = edge_goals.goals
        left = edge_goals.left
        if edge_goals.widened:
            reason = "the cash class is the only breached class" if not breached else "no room left in scope"
            notes.append(f"scope widened to {', '.join(edge_goals.widened)} to bring {cash} inside its band ({reason})")
        if left > SHIFT_TOLERANCE:
            notes.append(
                f"{cash} cannot be brought inside its band: every class is at its band edge; "
                f"it stays {_percent(left)} outside"
            )

    remainder = _cash_remainder(goals, cash)
    # Every other class at its target leaves the cash class at its own, up to rounding noise: say so exactly.
    goals[cash] = bands[cash].target if abs(remainder - bands[cash].target) <= SHIFT_TOLERANCE else remainder
    ordered = {name: goals[name] for name in weights}
    if to == "target":
        # Every class of the scope is traded, even one already at its target: its assets are re-split. An
        # auto class trades only when it moves.
        moving = tuple(
            name
            for name in names
            if name in in_scope and (name not in edge or abs(ordered[name] - weights[name]) > SHIFT_TOLERANCE)
        )
    else:
        # A band-edge rebalance trades only what must move; classes already inside stay put.
        moving = tuple(name for name in names if abs(ordered[name] - weights[name]) > SHIFT_TOLERANCE)
    return Goals(ordered, moving, tuple(notes))
