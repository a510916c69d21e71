"""``trimtab backtest``, ``trimtab compare`` and ``trimtab sweep``: replay history under one policy, several
policies, or a grid of variations of one policy, and write a self-contained HTML report.

Only typer and the standard library load at import time; numpy, the engine, plotly and rich load inside
the commands.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trimtab.cli.data import DEFAULT_DATA
from trimtab.cli.options import FormatOption
from trimtab.cli.options import output_format as check_format
from trimtab.cli.plan import check_output_path, parse_time_option
from trimtab.errors import BadInputError

if TYPE_CHECKING:
    from trimtab.backtest.report import NamedRun
    from trimtab.backtest.result import BacktestResult
    from trimtab.backtest.sweep import SweepJob, SweepPoint
    from trimtab.backtest.window import BacktestWindow
    from trimtab.feed.history import MarketHistory

PROGRESS_AFTER_SECONDS = 1.0
REPORT_FRONTIER_RUNS = 4


def register(app: typer.Typer) -> None:
    """Add ``backtest``, ``compare`` and ``sweep`` to the application."""
    app.command("backtest", help="Replay history under a policy; print the metrics, optionally write a report.")(
        backtest_command
    )
    app.command("compare", help="Backtest several policies on the same data, side by side, in one report.")(
        compare_command
    )
    app.command("sweep", help="Backtest a grid of variations of a policy and draw the cost/tracking frontier.")(
        sweep_command
    )


DataOption = Annotated[Path, typer.Option("--data", help="The data folder (see trimtab data list).")]
StartOption = Annotated[
    str | None, typer.Option("--start", help="First bar (ISO 8601, UTC); default: the first shared bar.")
]
EndOption = Annotated[str | None, typer.Option("--end", help="Last bar (ISO 8601, UTC); default: the last shared bar.")]
CapitalOption = Annotated[float, typer.Option("--capital", help="Starting capital in the base currency.")]
TimeframeOption = Annotated[
    str | None, typer.Option("--timeframe", help="Bar length (1h, 1d...); default: the finest every asset has.")
]
ReportOption = Annotated[
    Path | None, typer.Option("--report", help="Write a self-contained HTML report here.", show_default=False)
]


def backtest_command(
    policy: Annotated[Path, typer.Option("--policy", help="Policy file (.toml or .json).")],
    data: DataOption = DEFAULT_DATA,
    start: StartOption = None,
    end: EndOption = None,
    capital: CapitalOption = 100_000.0,
    timeframe: TimeframeOption = None,
    output_format: FormatOption = "text",
    report: ReportOption = None,
) -> None:
    """Backtest one policy."""
    window = _window(output_format, capital, start, end, report)
    job = _job(policy, data, window, capital, timeframe)
    history, used = _history(job)
    result, gaps = _run_one(job, label=policy.name, quiet=output_format == "json", history=history)
    warnings = _warn([used.warning(), funding_gap_warning(result)], output_format)
    notes = [f"Window: {used.describe()}.", *(f"Warning: {w}." for w in warnings)]
    if report is not None:
        _write_report(report, [_named(policy.stem, result)], f"Backtest: {policy.stem}", notes=notes)
    if output_format == "json":
        _emit(
            {
                **run_document(result),
                "policy": policy.name,
                "window": used.to_json(),
                "warnings": warnings,
                "data_gaps": gaps,
            }
        )
        return
    _print_runs([_named(policy.stem, result)], gaps, report, notes)


def compare_command(
    policies: Annotated[list[Path], typer.Option("--policy", help="A policy file; repeat for each policy.")],
    data: DataOption = DEFAULT_DATA,
    start: StartOption = None,
    end: EndOption = None,
    capital: CapitalOption = 100_000.0,
    timeframe: TimeframeOption = None,
    output_format: FormatOption = "text",
    report: ReportOption = None,
) -> None:
    """Backtest several policies and show them side by side."""
    import dataclasses

    from trimtab.backtest.window import backtest_window, common_window, limiting

    window = _window(output_format, capital, start, end, report)
    if len(policies) < 2:
        raise BadInputError("--policy", "", "compare needs at least two policies")
    jobs = [_job(path, data, window, capital, timeframe) for path in policies]  # validate every file first
    names = _unique_names([path.stem for path in policies])
    loaded = [_history(job) for job in jobs]
    own = {name: used for name, (_, used) in zip(names, loaded, strict=True)}
    # Every policy runs on the span they all share, so the table compares like with like.
    first, last = common_window(own)
    jobs = [dataclasses.replace(job, start=first, end=last) for job in jobs]
    common = {name: backtest_window(history, first, last) for name, (history, _) in zip(names, loaded, strict=True)}
    spans = {(w.first, w.last) for w in own.values()}
    notes = [f"Window: every policy runs from {first:%Y-%m-%d} to {last:%Y-%m-%d} (bar open times)."]
    if len(spans) > 1:
        notes.append(f"That common window is set by {limiting(own)}.")
    warnings = _warn(
        [f"{name}: {text}" if (text := used.warning()) else None for name, used in own.items()], output_format
    )
    runs: list[NamedRun] = []
    all_gaps: list[str] = []
    for name, job, path, (history, _) in zip(names, jobs, policies, loaded, strict=True):
        result, gaps = _run_one(job, label=path.name, quiet=output_format == "json", history=history)
        runs.append(_named(name, result))
        all_gaps += [line for line in gaps if line not in all_gaps]
    notes += [f"Warning: {w}." for w in warnings]
    if report is not None:
        _write_report(report, runs, "Comparison: " + ", ".join(names), notes=notes)
    if output_format == "json":
        _emit(
            {
                "runs": [
                    {"name": run.name, **run_document(run.result), "window": common[run.name].to_json()} for run in runs
                ],
                "window": {"start": common[names[0]].to_json()["start"], "end": common[names[0]].to_json()["end"]},
                "own_windows": {name: used.to_json() for name, used in own.items()},
                "warnings": warnings,
                "data_gaps": all_gaps,
            }
        )
        return
    _print_runs(runs, all_gaps, report, notes)


def sweep_command(
    policy: Annotated[Path, typer.Option("--policy", help="The policy the grid varies.")],
    grid: Annotated[
        list[str],
        typer.Option("--grid", help="NAME=VALUES, repeatable: band=0.01:0.20:0.01, every=1d,7d, to=target,band-edge."),
    ],
    data: DataOption = DEFAULT_DATA,
    start: StartOption = None,
    end: EndOption = None,
    capital: CapitalOption = 100_000.0,
    timeframe: TimeframeOption = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local processes; default: every core.", show_default=False)
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="Run on a Ray cluster (auto, ray://host:10001; local starts one here).",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = "text",
    report: ReportOption = None,
) -> None:
    """Run a parameter grid and mark the efficient policies."""
    from trimtab.backtest.sweep import grid_points, parse_grid, run_sweep

    window = _window(output_format, capital, start, end, report)
    if workers is not None and workers < 1:
        raise BadInputError("--workers", "", "must be at least 1")
    points = grid_points(parse_grid(grid))
    job = _job(policy, data, window, capital, timeframe)
    with _progress(f"sweep of {len(points)} runs", quiet=output_format == "json") as advance:
        outcome = run_sweep(job, points, workers=workers, ray_address=ray_address, on_done=advance)
    if report is not None:
        runs = _frontier_runs(job, outcome)
        _write_report(report, runs, f"Sweep: {policy.stem}", frontier=outcome)
    if output_format == "json":
        efficient = [point.label for point in outcome if point.efficient]
        _emit({"policy": policy.name, "points": [p.as_dict() for p in outcome], "efficient": efficient})
        return
    _print_sweep(outcome, report)


# --------------------------------------------------------------------------- shared steps


def _window(
    output_format: str, capital: float, start: str | None, end: str | None, report: Path | None
) -> tuple[datetime | None, datetime | None]:
    """Check the flags that need no file, before any work."""
    check_format(output_format)
    from trimtab.limits import MAX_AMOUNT

    if not 0 < capital <= MAX_AMOUNT:
        raise BadInputError("--capital", "", f"must be a positive number up to {MAX_AMOUNT:g}")
    first = parse_time_option("--start", start) if start is not None else None
    last = parse_time_option("--end", end) if end is not None else None
    if first is not None and last is not None and first > last:
        raise BadInputError("--start", "", "must not be after --end")
    if report is not None:
        check_output_path("--report", report)
    return first, last


def _job(
    policy_path: Path,
    data: Path,
    window: tuple[datetime | None, datetime | None],
    capital: float,
    timeframe: str | None,
) -> SweepJob:
    from trimtab.backtest.sweep import SweepJob
    from trimtab.loaders.policy import load_policy

    policy = load_policy(policy_path)
    if not data.is_dir():
        raise BadInputError("--data", "", f"{data} is not a folder")
    document = policy.model_dump(mode="json", by_alias=True, exclude_none=True)
    return SweepJob(document, policy_path.name, data, window[0], window[1], capital, timeframe)


def _history(job: SweepJob) -> tuple[MarketHistory, BacktestWindow]:
    """The policy's history and the window of it the run will use (refused, naming the asset, when empty)."""
    from trimtab.backtest.sweep import load_job_history
    from trimtab.backtest.window import backtest_window

    history = load_job_history(job)
    return history, backtest_window(history, job.start, job.end)


def funding_gap_warning(result: BacktestResult) -> str | None:
    """A warning when a perpetual was held over bars that no funding history covers (their funding is zero)."""
    bars = int(result.metrics.get("funding_gap_bars", 0))
    if bars == 0:
        return None
    symbols = sorted({str(e["symbol"]) for e in result.events if e.get("kind") == "funding_gap"})
    return (
        f"{', '.join(symbols)} held over {bars} bar(s) without funding history: their funding counts as zero "
        "there (add the perp_<ASSET>-<QUOTE>_funding_8h file, or shorten the window)"
    )


def _warn(candidates: Sequence[str | None], output_format: str) -> list[str]:
    """The warnings among ``candidates``; with ``--format json`` also printed on stderr (the table shows them)."""
    warnings = list(dict.fromkeys(w for w in candidates if w))
    if output_format == "json":
        for warning in warnings:
            sys.stderr.write(f"trimtab: warning: {warning}\n")
    return warnings


def _run_one(
    job: SweepJob, label: str, quiet: bool, history: MarketHistory | None = None
) -> tuple[BacktestResult, list[str]]:
    """Run the policy on its history; returns the result and the gaps among the replayed bars."""
    from trimtab.backtest.engine import run_backtest
    from trimtab.backtest.sweep import load_job_history, policy_for

    policy = policy_for(job, {})
    history = history if history is not None else load_job_history(job)
    with _progress(label, quiet) as advance:
        result = run_backtest(policy, history, start=job.start, end=job.end, capital=job.capital, progress=advance)
    return result, replay_gaps(result, history.bar_seconds, history.timeframe)


def replay_gaps(result: BacktestResult, bar_seconds: int, timeframe: str) -> list[str]:
    """Missing bars among the ones the run replayed (bars some asset lacks, never filled)."""
    from trimtab.feed.gaps import describe_gaps, find_gaps

    return describe_gaps(f"shared {timeframe} bars", find_gaps(result.timestamps, bar_seconds), bar_seconds)


def run_document(result: BacktestResult) -> dict[str, Any]:
    """The JSON of one run: the contract's metrics (and a few more) plus the run's facts."""
    document: dict[str, Any] = _plain(result.summary())
    document["trades"] = len(result.trades)
    return document


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, so counts stay integers and money stays floats in the JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def _frontier_runs(job: SweepJob, points: Sequence[SweepPoint]) -> list[NamedRun]:
    """Full runs of a few efficient points (spread along the frontier) for the report's curves."""
    from trimtab.backtest.engine import run_backtest
    from trimtab.backtest.sweep import load_job_history, policy_for

    efficient = sorted((p for p in points if p.efficient), key=lambda p: p.cost)
    if len(efficient) > REPORT_FRONTIER_RUNS:
        step = (len(efficient) - 1) / (REPORT_FRONTIER_RUNS - 1)
        efficient = [efficient[round(i * step)] for i in range(REPORT_FRONTIER_RUNS)]
    history = load_job_history(job)
    return [
        _named(
            point.label,
            run_backtest(policy_for(job, point.params), history, start=job.start, end=job.end, capital=job.capital),
        )
        for point in efficient
    ]


def _named(name: str, result: BacktestResult) -> NamedRun:
    from trimtab.backtest.report import NamedRun

    return NamedRun(name, result)


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _write_report(
    path: Path,
    runs: Sequence[NamedRun],
    title: str,
    frontier: Sequence[SweepPoint] = (),
    notes: Sequence[str] = (),
) -> None:
    from trimtab.backtest.report import render_report, write_report

    write_report(path, render_report(runs, title=title, frontier=frontier, notes=notes))


def _emit(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress callback that shows a rich bar on stderr once the work has taken more than a second."""
    began = time.monotonic()
    state: dict[str, Any] = {}

    def advance(done: int, total: int) -> None:
        if quiet or not sys.stderr.isatty():
            return
        if "bar" not in state:
            if time.monotonic() - began < PROGRESS_AFTER_SECONDS or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task(label, total=total)
        state["bar"].update(state["task"], completed=done, total=total)

    try:
        yield advance
    finally:
        if "bar" in state:
            state["bar"].stop()


# --------------------------------------------------------------------------- tables


def _print_runs(runs: Sequence[NamedRun], gaps: Sequence[str], report: Path | None, notes: Sequence[str] = ()) -> None:
    from rich.console import Console
    from rich.table import Table

    from trimtab.backtest.report import METRIC_ROWS, format_metric

    console = Console(width=max(Console().width, 100))
    first = runs[0].result
    period = f"{first.start:%Y-%m-%d %H:%M} to {first.end:%Y-%m-%d %H:%M} UTC, {first.bars:,} bars"
    console.print(f"Backtest over {period}; money in {first.base_currency}", highlight=False)
    for note in notes:
        console.print(note, style="bold yellow" if note.startswith("Warning") else None, highlight=False)
    for run in runs[1:]:
        other = run.result
        if (other.start, other.end, other.bars) != (first.start, first.end, first.bars):
            # policies with other assets share other bars: say so rather than compare silently
            console.print(
                f"  {run.name}: {other.start:%Y-%m-%d %H:%M} to {other.end:%Y-%m-%d %H:%M} UTC, {other.bars:,} bars",
                highlight=False,
            )
    table = Table()
    table.add_column("Metric", style="bold")
    for run in runs:
        table.add_column(run.name, justify="right")
    table.add_column("Buy and hold" if len(runs) == 1 else f"Buy and hold ({runs[0].name})", justify="right")
    for key, label, style in METRIC_ROWS:
        cells = [format_metric(run.result.metrics.get(key), style) for run in runs]
        table.add_row(label, *cells, format_metric(first.benchmark_metrics.get(key), style))
    table.add_row("Engine", *("fast path" if run.result.used_fast_path else "event engine" for run in runs), "")
    console.print(table)
    for run in runs:
        if "net_flows" in run.result.metrics:
            net = run.result.metrics["net_flows"]
            console.print(
                f"{run.name}: cash flows {net:+,.2f} {run.result.base_currency} in all; returns, volatility and "
                "drawdown are time-weighted (a deposit or withdrawal is no gain or loss)",
                highlight=False,
            )
    if gaps:
        console.print(f"{len(gaps)} gap(s) in the replayed bars (never filled); the first: {gaps[0]}", highlight=False)
    if report is not None:
        console.print(f"Report written to {report}", highlight=False)


def _print_sweep(points: Sequence[SweepPoint], report: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 140))
    table = Table(title=f"Sweep: {len(points)} runs (efficient first, by cost)", title_justify="left")
    for heading in ("Efficient", "Parameters", "Tracking error", "Cost", "Total return", "Rebalances"):
        left = heading in {"Efficient", "Parameters"}
        table.add_column(heading, justify="left" if left else "right", no_wrap=heading == "Parameters")
    for point in sorted(points, key=lambda p: (not p.efficient, p.cost)):
        table.add_row(
            "yes" if point.efficient else "",
            point.label,
            f"{point.tracking_error * 100:.3f} %",
            f"{point.cost:,.2f}",
            f"{point.metrics.get('total_return', 0.0) * 100:.2f} %",
            f"{int(point.metrics.get('rebalances', 0)):,}",
        )
    console.print(table)
    if report is not None:
        console.print(f"Report written to {report}", highlight=False)
