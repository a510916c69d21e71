"""``trimtab run``: the live (or paper) loop; plus ``kill`` and ``resume``, the kill switch's two handles.

Heavy imports (SQLAlchemy, ccxt, the planner) happen inside the commands so ``trimtab --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from trimtab.cli.options import given_flags
from trimtab.cli.options import output_format as check_format
from trimtab.errors import BadInputError


def register(app: typer.Typer) -> None:
    """Add ``run``, ``kill`` and ``resume`` to the application."""
    app.command("run", help="Run the rebalancing loop on the paper venue or a real exchange.")(run_command)


RUN_FLAGS = {
    "policy": "run.policy",
    "venue": "run.venue",
    "state": "run.state",
    "cycles": "run.cycles",
    "interval": "run.interval",
    "dry_run": "run.dry_run",
    "approve": "run.approve",
    "output_format": "run.format",
    "portfolio": "run.portfolio",
    "market": "run.market",
    "data": "run.data",
    "prices": "run.prices",
    "at": "run.at",
    "keys": "run.keys",
    "testnet": "run.testnet",
    "demo": "run.demo",
    "venue_config": "run.venue_config",
}
"""``run``'s flags and the configuration keys they override when given on the command line."""


def run_command(
    ctx: typer.Context,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy file (.toml or .json); or run.policy in --config.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Run configuration file (trimtab init writes one); flags win over it, TRIMTAB__SECTION__KEY "
            "variables over its keys.",
        ),
    ] = None,
    venue: Annotated[
        str, typer.Option("--venue", help="'paper' or a ccxt exchange id (binance, binanceusdm...).")
    ] = "paper",
    state: Annotated[
        str | None,
        typer.Option("--state", help="Journal URL (default sqlite:///trimtab-<venue>.db here).", show_default=False),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Run one cycle and exit.")] = False,
    cycles: Annotated[int | None, typer.Option("--cycles", min=1, help="Run this many cycles and exit.")] = None,
    interval: Annotated[
        float, typer.Option("--interval", min=0.0, help="Seconds between cycles (live, --market and --prices).")
    ] = 60.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and record, never send an order.")] = False,
    approve: Annotated[bool, typer.Option("--approve", help="Ask before executing each plan.")] = False,
    output_format: Annotated[str, typer.Option("--format", help="text or json (one line per cycle).")] = "text",
    portfolio: Annotated[
        Path | None,
        typer.Option(
            "--portfolio", help="Paper: first-start balances. Live: the [[account]] tables, one connection each."
        ),
    ] = None,
    market: Annotated[Path | None, typer.Option("--market", help="Paper: one fixed market snapshot.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Paper: a history folder to replay.")] = None,
    prices: Annotated[
        str | None,
        typer.Option("--prices", help="Paper on live prices: a ccxt exchange id whose public tickers price it."),
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="Paper replay: the first bar (ISO time).")] = None,
    execution: Annotated[
        Path | None, typer.Option("--execution", help="Execution settings and caps (.toml or .json).")
    ] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="Live: API key file (chmod 600).")] = None,
    testnet: Annotated[bool, typer.Option("--testnet", help="Live: the exchange's testnet.")] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="Live: the exchange's demo-trading environment (Binance's demo accounts).")
    ] = False,
    venue_config: Annotated[
        Path | None,
        typer.Option("--venue-config", help="Live and --prices: extra ccxt settings (JSON: urls, timeout...)."),
    ] = None,
    notify: Annotated[
        Path | None, typer.Option("--notify", help="Notification channels (notify.toml: webhook, Telegram).")
    ] = None,
) -> None:
    """Run cycles: reconcile, value, trigger, plan, guard, execute, journal."""
    ctx.params["output_format"] = check_format(output_format)  # "table" is read as "text", as everywhere
    import os

    from trimtab.cli.plan import parse_time_option
    from trimtab.cli.settings import load_settings, resolved_path

    given = given_flags(ctx, RUN_FLAGS)
    settings = load_settings(config, os.environ, given)
    run = settings.run
    at_time = parse_time_option("--at" if "run.at" in given else "run.at", run.at) if run.at is not None else None
    policy = resolved_path(run.policy)
    if policy is None:
        raise BadInputError("--policy", "", "missing: give --policy FILE or run.policy in the --config file")

    from trimtab.app.approval import stdin_approver
    from trimtab.app.lifecycle import StopSignals
    from trimtab.app.lock import InstanceLock
    from trimtab.app.logs import configure_logging
    from trimtab.app.supervisor import CycleSupervisor
    from trimtab.app.wiring import RunSetup, build_run, check_setup
    from trimtab.execution.config import load_execution_config
    from trimtab.loaders.policy import load_policy
    from trimtab.storage import default_state_url, open_store
    from trimtab.storage.heartbeat import Heartbeat

    configure_logging()
    loaded_policy = load_policy(policy)
    exec_config = load_execution_config(execution) if execution is not None else settings.execution
    hub = None
    channels = settings.notify
    if notify is not None:
        from trimtab.notify import load_notify_config

        channels = load_notify_config(notify)
    if channels is not None:
        from trimtab.notify import build_hub

        source = notify.name if notify is not None else config.name if config is not None else "configuration"
        hub = build_hub(channels, source)
    venue, output_format, interval = run.venue, run.format, run.interval
    state_url = run.state or default_state_url(venue)
    setup = RunSetup(
        venue=venue,
        portfolio=resolved_path(run.portfolio),
        market=resolved_path(run.market),
        data=resolved_path(run.data),
        prices=run.prices,
        at=at_time,
        keys=resolved_path(run.keys),
        testnet=run.testnet,
        demo=run.demo,
        venue_config=resolved_path(run.venue_config),
        dry_run=run.dry_run,
        approver=stdin_approver() if run.approve else None,
        config=exec_config,
    )
    check_setup(setup, state_url, loaded_policy)
    # SQLite: the file lock comes first, so a refused second run creates and writes nothing.
    file_lock = _claim_journal_file(state_url)
    try:
        store = open_store(state_url)
    except BaseException:
        if file_lock is not None:
            file_lock.release()
        raise
    total = 1 if once else run.cycles
    stop = StopSignals()
    setup.signals = stop
    lease = InstanceLock(store, name=f"run:{venue}", lease_s=exec_config.lock_lease_s)
    if file_lock is not None:
        lease.adopt_file_lock(file_lock)
    setup.lease = lease.stopping
    try:
        lease.acquire()
    except BaseException:
        lease.release()
        store.close()
        raise
    wired = None
    try:
        wired = build_run(loaded_policy, store, setup)
        supervisor = CycleSupervisor(wired.loop, lease, stop.sleep)
        beat = Heartbeat(
            store, venue=venue, interval_s=0.0 if wired.feed is not None else interval, planned_cycles=total
        ).begin()
        ending = ""
        if hub is not None:
            hub.start()
        commands = _telegram_commands(channels, store)
        done = 0
        stop.install()
        try:
            while (total is None or done < total) and stop.received is None:
                began = time.monotonic()
                try:
                    result = supervisor.cycle()
                except Exception as error:
                    ending = f"error: {type(error).__name__}: {error}"
                    if hub is not None:
                        hub.notify("error", f"the run stopped: {type(error).__name__}: {error}")
                    raise
                done += 1
                if result is None:
                    continue  # the journal could not be reached: the supervisor said so and waited
                beat.beat(result.cycle, time.monotonic() - began)
                if hub is not None:
                    hub.publish_cycle(result.to_json())
                if output_format == "json":
                    sys.stdout.write(json.dumps(result.to_json()) + "\n")
                else:
                    sys.stdout.write(_text_line(result.to_json()) + "\n")
                sys.stdout.flush()
                if wired.feed is not None:
                    # The replay remembers the bar just processed, so a restart goes on from the next one.
                    if not wired.advance():
                        ending = "the replay reached its last bar"
                        break
                elif total is None or done < total:
                    stop.sleep(interval)
            else:
                ending = _ending(stop.received.name if stop.received else None, done, total)
        finally:
            stop.restore()
            beat.end(ending or f"interrupted after {done} cycle(s)")
            if hub is not None:
                hub.flush(timeout=5.0)
                hub.close()
            for poller in commands:
                poller.close()
    finally:
        if wired is not None:
            wired.venue.close()
        lease.release()
        store.close()
    if stop.received is not None:
        sys.stderr.write(f"trimtab: stopped by {stop.received.name} after {done} cycle(s); the journal is released\n")
        if stop.exit_status:
            # Not typer.Exit: the entry point runs click outside standalone mode, where it returns the status.
            raise SystemExit(stop.exit_status)


def _claim_journal_file(state_url: str) -> Any:
    """The file lock of a SQLite journal, taken before the journal is opened (None for other databases)."""
    from trimtab.app.lock import FileLock, sqlite_journal
    from trimtab.storage import describe_url

    path = sqlite_journal(state_url)
    if path is None:
        return None
    lock = FileLock(path)
    lock.acquire(describe_url(state_url))
    return lock


def _telegram_commands(channels: Any, store: Any) -> list[Any]:
    """The started Telegram command pollers of the notification channels (none without ``commands = true``)."""
    if channels is None:
        return []
    import os

    from trimtab.notify.commands import build_commands

    return [poller.start() for poller in build_commands(channels, store, os.environ)]


def _ending(signal: str | None, done: int, total: int | None) -> str:
    """Why a run's loop ended, for its heartbeat row."""
    if signal is not None:
        return f"stopped by {signal} after {done} cycle(s)"
    if total == 1:
        return "one cycle (--once) done"
    return f"{done} cycle(s) done"


def _text_line(result: dict[str, Any]) -> str:
    orders = result["orders"]
    assert isinstance(orders, list)
    equity = result["equity"]
    text = (
        f"cycle {result['cycle']} {result['timestamp']}: equity "
        f"{'unknown' if equity is None else f'{equity:,.2f}'}"
        f"{' TRIGGERED' if result['triggered'] else ''}{' HALTED' if result['halted'] else ''}, {len(orders)} order(s)"
    )
    for order in orders:
        text += (
            f"\n  {order['side']} {order['amount']:g} {order['symbol']}: {order['status']} ({order['filled']:g} filled)"
        )
    for reason in result.get("decisions") or []:
        text += f"\n  - {reason}"
    return text
