"""Parameter sweeps: one policy, a grid of variations, every run's cost and tracking error, and the frontier.

A grid is given as ``NAME=VALUES`` items. ``VALUES`` is a comma list (``7d,30d``) or an inclusive range
``FIRST:LAST:STEP`` (``0.01:0.20:0.01``). Names:

* ``band``: the absolute half-width of every class's band (``band_relative`` is dropped);
* ``every``: the trigger's period; a ``threshold`` trigger becomes ``hybrid`` (check the bands every period);
* ``to``, ``scope``, ``instrument``: the ``[rebalance]`` fields of the same names;
* ``kind``: the trigger's kind;
* any dotted path into the policy file, e.g. ``costs.taker_fee=0.0005,0.001``, ``rebalance.tracking_budget``;
  a class by its name or position: ``class.ALTS.band=auto,0.03`` (a class's ``band`` replaces its
  ``band_relative``), ``class.0.band_relative=0.1,0.2``.

Grid points the Numba kernel can serve (spot, ``fixed`` strategy, fixed bands: band widths, relative and
per-class bands, ``to``, ``scope``, trigger kinds and periods, costs) run in batches, one parallel kernel
call each (:mod:`trimtab.backtest.sweep_batch`); the others run one by one, in a local process pool
(every core by default). Given a Ray address, each batch and each other point is one Ray task.
A run is *efficient* when no other run of the grid has both a lower tracking error and a lower cost
(fees + slippage + funding), with at least one of the two strictly lower.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimtab.errors import BadInputError

if TYPE_CHECKING:
    from trimtab.backtest.result import BacktestResult
    from trimtab.feed.history import MarketHistory
    from trimtab.policy.config import Policy

MAX_POINTS = 20_000
SHORTCUTS = {
    "band": None,
    "every": ("trigger", "every"),
    "kind": ("trigger", "kind"),
    "to": ("rebalance", "to"),
    "scope": ("rebalance", "scope"),
    "instrument": ("rebalance", "instrument"),
}


@dataclass(frozen=True)
class GridAxis:
    """One swept parameter and its values, in the order given."""

    name: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class SweepPoint:
    """The outcome of one grid point."""

    label: str
    params: dict[str, Any]
    tracking_error: float
    cost: float
    metrics: dict[str, float] = field(default_factory=dict)
    efficient: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "params": dict(self.params),
            "tracking_error": self.tracking_error,
            "cost": self.cost,
            "efficient": self.efficient,
            "metrics": dict(self.metrics),
        }


def parse_grid(items: Sequence[str]) -> list[GridAxis]:
    """Parse ``--grid`` items.

    Raises
    ------
    BadInputError
        Naming ``--grid`` and the item, for a missing ``=``, an empty list, a bad range or a repeated name.
    """
    axes: list[GridAxis] = []
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            raise BadInputError("--grid", "", f"{item!r} must read NAME=VALUES, e.g. band=0.01:0.10:0.01")
        if name not in SHORTCUTS and "." not in name:
            known = ", ".join(SHORTCUTS)
            raise BadInputError(
                "--grid", name, f"unknown parameter (use {known}, or a dotted path such as costs.taker_fee)"
            )
        if any(axis.name == name for axis in axes):
            raise BadInputError("--grid", name, "given twice")
        axes.append(GridAxis(name, _values(name, text.strip())))
    return axes


def _values(name: str, text: str) -> tuple[Any, ...]:
    if text.count(":") == 2 and "," not in text:
        try:
            first, last, step = (float(part) for part in text.split(":"))
        except ValueError:
            raise BadInputError("--grid", name, f"{text!r} is not a range FIRST:LAST:STEP of numbers") from None
        if step <= 0 or last < first or not all(math.isfinite(v) for v in (first, last, step)):
            raise BadInputError("--grid", name, f"{text!r} needs FIRST <= LAST and a positive STEP")
        count = math.floor((last - first) / step + 1e-9) + 1
        if count > MAX_POINTS:
            raise BadInputError("--grid", name, f"{text!r} has {count} values, more than {MAX_POINTS}")
        # rounding keeps 0.1 + 0.2 from printing as 0.30000000000000004
        return tuple(round(first + index * step, 12) for index in range(count))
    values = tuple(_scalar(part.strip()) for part in text.split(",") if part.strip())
    if not values:
        raise BadInputError("--grid", name, "needs at least one value")
    return values


def _scalar(text: str) -> Any:
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in lowered else number


def grid_points(axes: Sequence[GridAxis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values (the first axis varies slowest).

    Raises
    ------
    BadInputError
        If the grid has more than ``MAX_POINTS`` points.
    """
    total = math.prod(len(axis.values) for axis in axes)
    if total > MAX_POINTS:
        raise BadInputError("--grid", "", f"{total} points is more than {MAX_POINTS}; narrow the grid")
    names = [axis.name for axis in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(axis.values for axis in axes))]


def point_label(params: dict[str, Any]) -> str:
    """``band=0.05 every=7d``."""
    return " ".join(f"{name}={value}" for name, value in params.items())


def apply_point(document: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A copy of a policy document (as ``Policy.model_dump(by_alias=True)`` gives it) with a grid point applied."""
    out: dict[str, Any] = _copy_document(document)
    for name, value in params.items():
        if name == "band":
            for table in out["class"]:
                table["band"] = value
                table.pop("band_relative", None)
        elif name == "every":
            trigger = out.setdefault("trigger", {})
            if trigger.get("kind", "threshold") == "threshold":
                trigger["kind"] = "hybrid"
            trigger["every"] = value
        else:
            path = SHORTCUTS.get(name) or tuple(name.split("."))
            target: Any = out
            for key in path[:-1]:
                target = _class_table(target, key, name) if isinstance(target, list) else target.setdefault(key, {})
                if not isinstance(target, dict | list):
                    raise BadInputError("--grid", name, f"{key} is not a table of the policy")
            if isinstance(target, list):
                raise BadInputError("--grid", name, "name one class: class.<name or position>.<key>")
            target[path[-1]] = value
            if path[-1] == "band" and len(path) == 3:
                target.pop("band_relative", None)
    trigger = out.get("trigger", {})
    if trigger.get("kind") == "threshold":
        trigger.pop("every", None)  # a grid that sets kind=threshold next to every= means the bands alone
    return out


def _copy_document(value: Any) -> Any:
    """A copy of a JSON-like document's tables and lists (its strings and numbers are immutable and shared):
    what ``copy.deepcopy`` gives, several times faster on the 191 points of a sweep."""
    if isinstance(value, dict):
        return {key: _copy_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_document(item) for item in value]
    return value


def _class_table(tables: list[Any], key: str, name: str) -> dict[str, Any]:
    """The ``[[class]]`` table a dotted path names by position (``class.0``) or by name (``class.BTC``)."""
    for position, table in enumerate(tables):
        if isinstance(table, dict) and (table.get("name") == key or str(position) == key):
            return table
    raise BadInputError("--grid", name, f"{key} is neither a class name nor a class position")


def mark_efficient(points: Sequence[SweepPoint]) -> list[SweepPoint]:
    """The points with ``efficient`` set where no other point is at least as good on both axes and better on one."""
    marked = []
    for point in points:
        dominated = any(
            other.tracking_error <= point.tracking_error
            and other.cost <= point.cost
            and (other.tracking_error < point.tracking_error or other.cost < point.cost)
            for other in points
        )
        marked.append(
            SweepPoint(point.label, point.params, point.tracking_error, point.cost, point.metrics, not dominated)
        )
    return marked


def total_cost(metrics: dict[str, float]) -> float:
    """Fees + slippage + funding paid over the run, in the base currency."""
    return float(metrics.get("fees", 0.0)) + float(metrics.get("slippage", 0.0)) + float(metrics.get("funding", 0.0))


@dataclass(frozen=True)
class SweepJob:
    """What every run of a sweep shares."""

    document: dict[str, Any]
    source: str
    data_dir: Path
    start: datetime | None
    end: datetime | None
    capital: float
    timeframe: str | None = None


def run_sweep(
    job: SweepJob,
    points: Sequence[dict[str, Any]],
    *,
    workers: int | None = None,
    ray_address: str | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> list[SweepPoint]:
    """Run every grid point and mark the efficient ones.

    Parameters
    ----------
    job:
        The base policy document, the data and the run's bounds.
    points:
        Grid points from :func:`grid_points`.
    workers:
        Local processes (default: every core); 1 runs in this process.
    ray_address:
        A Ray cluster's address (``auto``, ``ray://host:10001``, or ``local`` for a Ray started here).
    on_done:
        Called with (finished, total) after each run.

    Raises
    ------
    BadInputError
        If a grid point makes the policy invalid (naming the point), or the data cannot serve the policy.
    """
    # validate every point up front so a bad grid fails before any work
    policies = [policy_for(job, params) for params in points]
    history = load_job_history(job)
    if ray_address is not None:
        results = run_on_ray(job, history, points, policies, ray_address, on_done)
        return mark_efficient(results)
    from trimtab.backtest.sweep_batch import plan_batches, run_batch

    total = len(points)
    finished: dict[int, SweepPoint] = {}

    def record(index: int, point: SweepPoint) -> None:
        finished[index] = point
        if on_done is not None:
            on_done(len(finished), total)

    batches, others = plan_batches(policies, history, job.start, job.end)
    for batch in batches:
        for index, metrics in run_batch(batch, job.capital):
            record(index, summarise(points[index], metrics))
    count = min(workers or os.cpu_count() or 1, len(others))
    if count <= 1:
        for index in others:
            record(index, run_point(job, history, points[index], policies[index]))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed  # only for points outside a batch

        with ProcessPoolExecutor(max_workers=count, initializer=init_worker, initargs=(job,)) as pool:
            futures = {pool.submit(run_point_in_worker, points[index]): index for index in others}
            for future in as_completed(futures):
                record(futures[future], future.result())
    return mark_efficient([finished[index] for index in range(total)])


def policy_for(job: SweepJob, params: dict[str, Any]) -> Policy:
    """The policy of one grid point, validated like a policy file.

    Raises
    ------
    BadInputError
        Naming the policy file, the grid point and the field that the point made invalid.
    """
    from trimtab.loaders.validation import validate
    from trimtab.policy.config import Policy

    source = f"{job.source} [{point_label(params)}]" if params else job.source
    return validate(Policy, apply_point(job.document, params), source)


def validate_point(job: SweepJob, params: dict[str, Any]) -> None:
    policy_for(job, params)


def policy_assets(policy: Policy) -> list[str]:
    """Every asset the policy's classes list, in file order."""
    return list(dict.fromkeys(asset for cls in policy.classes for asset in cls.assets))


def load_job_history(job: SweepJob) -> MarketHistory:
    """The history every grid point replays (the grid changes no asset, so one load serves all)."""
    from trimtab.feed import load_history

    policy = policy_for(job, {})
    return load_history(
        job.data_dir, policy_assets(policy), quote=policy.base_currency, timeframe=job.timeframe, end=job.end
    )


def backtest(policy: Policy, history: MarketHistory, job: SweepJob) -> BacktestResult:
    """One run of the engine (the single place that calls it, for sweeps and the CLI alike)."""
    from trimtab.backtest.engine import run_backtest

    return run_backtest(policy, history, start=job.start, end=job.end, capital=job.capital)


def run_point(
    job: SweepJob, history: MarketHistory, params: dict[str, Any], policy: Policy | None = None
) -> SweepPoint:
    """Run one grid point on its own (the event engine, or the fast path outside a batch) and summarise it."""
    result = backtest(policy or policy_for(job, params), history, job)
    return summarise(params, result.metrics)


def summarise(params: dict[str, Any], figures: dict[str, float]) -> SweepPoint:
    """A grid point's outcome from its run's metrics."""
    metrics = {key: float(value) for key, value in figures.items()}
    return SweepPoint(
        point_label(params), dict(params), metrics.get("tracking_error", 0.0), total_cost(metrics), metrics
    )


def run_batch_points(
    job: SweepJob, history: MarketHistory, indexed: list[tuple[int, dict[str, Any]]]
) -> list[tuple[int, SweepPoint]]:
    """Run grid points through the batched kernel where they can, one by one otherwise (a Ray task)."""
    from trimtab.backtest.sweep_batch import plan_batches, run_batch

    policies = [policy_for(job, params) for _, params in indexed]
    batches, others = plan_batches(policies, history, job.start, job.end)
    out = [
        (indexed[local][0], summarise(indexed[local][1], metrics))
        for batch in batches
        for local, metrics in run_batch(batch, job.capital)
    ]
    out += [(indexed[local][0], run_point(job, history, indexed[local][1], policies[local])) for local in others]
    return out


_WORKER: dict[str, Any] = {}


def init_worker(job: SweepJob) -> None:
    """Process-pool initialiser: load the history once per worker (from the Parquet cache after the first)."""
    _WORKER["job"] = job
    _WORKER["history"] = load_job_history(job)


def run_point_in_worker(params: dict[str, Any]) -> SweepPoint:
    return run_point(_WORKER["job"], _WORKER["history"], params)


def run_on_ray(
    job: SweepJob,
    history: MarketHistory,
    points: Sequence[dict[str, Any]],
    policies: Sequence[Policy],
    address: str,
    on_done: Callable[[int, int], None] | None,
) -> list[SweepPoint]:
    """Run the grid as Ray tasks: one task per kernel batch, one per point that needs a run of its own.

    The history is put in the object store once and shared by every task.

    Raises
    ------
    BadInputError
        If Ray is not installed (``pip install 'trimtab[cluster]'``).
    """
    try:
        import ray
    except ImportError:
        raise BadInputError("--ray-address", "", "Ray is not installed: pip install 'trimtab[cluster]'") from None
    from trimtab.backtest.sweep_batch import plan_batches

    batches, others = plan_batches(policies, history, job.start, job.end)
    units = [[(index, points[index]) for index in batch.indexes] for batch in batches]
    units += [[(index, points[index])] for index in others]
    started_here = not ray.is_initialized()
    if started_here:
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    try:
        task = ray.remote(run_batch_points)
        shared = ray.put(history)
        waiting = [task.remote(job, shared, unit) for unit in units]
        finished: dict[int, SweepPoint] = {}
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            for ref in done:
                finished.update(ray.get(ref))
            if on_done is not None:
                on_done(len(finished), len(points))
        return [finished[index] for index in range(len(points))]
    finally:
        if started_here:
            ray.shutdown()
