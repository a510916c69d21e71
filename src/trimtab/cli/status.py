"""``trimtab status`` (the last valuation against the bands) and ``trimtab orders`` (the journal's orders)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from trimtab.cli.options import ConfigOption, FormatOption, StateOption, journal_url, output_format
from trimtab.errors import BadInputError

if TYPE_CHECKING:
    from trimtab.storage import Store


def register(app: typer.Typer) -> None:
    """Add ``status`` and ``orders`` to the application."""
    app.command("status", help="The last valuation against the bands, the halt state and open orders.")(status_command)
    app.command("orders", help="Every order in the journal, newest last.")(orders_command)


def open_existing(url: str) -> Store:
    """Open a journal that must already exist (a SQLite file is never created by a read-only command)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from trimtab.storage import describe_url, open_store

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadInputError("--state", "", f"{describe_url(url)} is not a database URL") from None
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        from pathlib import Path

        if not Path(parsed.database).exists():
            raise BadInputError("--state", "", f"no journal at {parsed.database}")
    return open_store(url, create=False)


def status_document(store: Store) -> dict[str, Any]:
    """The ``status`` JSON: equity, classes against their bands, halt state and open orders."""
    from trimtab.app.killswitch import halt_status
    from trimtab.storage.heartbeat import liveness
    from trimtab.storage.journal import Journal
    from trimtab.storage.state import LAST_REBALANCE, StateStore
    from trimtab.web.queries import position_rows

    journal, state = Journal(store), StateStore(store)
    snapshot = journal.last_snapshot()
    halted, reason = halt_status(store, state)
    payload = snapshot["payload"] if snapshot else {}
    last_rebalance = state.get_time(LAST_REBALANCE)
    return {
        "timestamp": snapshot["timestamp"].isoformat().replace("+00:00", "Z") if snapshot else None,
        "cycle": snapshot["cycle"] if snapshot else None,
        "base_currency": payload.get("base_currency"),
        "equity": snapshot["equity"] if snapshot else None,
        "triggered": payload.get("triggered"),
        "classes": payload.get("classes", []),
        "positions": position_rows(payload),
        "liveness": liveness(store).to_dict(),
        "halted": halted,
        "halt_reason": reason,
        "last_rebalance": last_rebalance.isoformat().replace("+00:00", "Z") if last_rebalance else None,
        "open_orders": [o.to_dict() for o in journal.orders(open_only=True)],
        "pending_flow": pending_flow(store),
    }


def pending_flow(store: Store) -> float:
    """Deposits less withdrawals not yet steered: those a cycle took but did not carry out, and those recorded
    since the last cycle (``trimtab deposit`` / ``withdraw``)."""
    from trimtab.app.session_store import load_session_state
    from trimtab.storage.flows import flows_after
    from trimtab.storage.state import StateStore

    session = load_session_state(StateStore(store))
    return session.pending_flow + sum(flow.amount for flow in flows_after(store, session.flows_seen))


def status_command(state: StateOption = None, config: ConfigOption = None, fmt: FormatOption = "text") -> None:
    """Print the last valuation of a run against its bands."""
    chosen = output_format(fmt)
    document = status_document(open_existing(journal_url(state, config)))
    if chosen == "json":
        sys.stdout.write(json.dumps(document) + "\n")
        return
    alive = document["liveness"]
    typer.echo(f"loop: {alive['state']}: {alive['reason']}")
    if document["equity"] is None:
        typer.echo("no valuation yet")
    else:
        typer.echo(f"{document['timestamp']}  equity {document['equity']:,.2f} {document['base_currency']}")
        for c in document["classes"]:
            flag = "  BREACHED" if c["breached"] else ""
            typer.echo(
                f"  {c['name']:<10} {c['weight']:7.2%}  band {c['lower']:.2%}..{c['upper']:.2%}  "
                f"target {c['target']:.2%}{flag}"
            )
        for p in document["positions"]:
            typer.echo("  " + _position_line(p))
    typer.echo(f"halted: {document['halted']}" + (f" ({document['halt_reason']})" if document["halt_reason"] else ""))
    typer.echo(f"open orders: {len(document['open_orders'])}")
    if document["pending_flow"]:
        typer.echo(f"cash flow waiting for the next cycle: {document['pending_flow']:+,.2f}")


def _position_line(position: dict[str, Any]) -> str:
    """``BTC/USDT:USDT  -0.5  entry 58,800.00  liquidation 63,600.00 (6.00 % away)``."""

    def money(value: float | None) -> str:
        return "-" if value is None else f"{value:,.2f}"

    distance = position["liquidation_distance"]
    text = f"{position['symbol']:<16} {position['amount']:g}  entry {money(position['entry_price'])}"
    text += f"  liquidation {money(position['liquidation_price'])}"
    return text + ("" if distance is None else f" ({distance:.2%} away)")


def orders_command(state: StateOption = None, config: ConfigOption = None, fmt: FormatOption = "text") -> None:
    """Print every order of the journal, newest last."""
    chosen = output_format(fmt)
    from trimtab.storage.journal import Journal

    orders = [o.to_dict() for o in Journal(open_existing(journal_url(state, config))).orders()]
    if chosen == "json":
        sys.stdout.write(json.dumps(orders) + "\n")
        return
    for o in orders:
        average = "-" if o["average_price"] is None else f"{o['average_price']:g}"
        typer.echo(
            f"{o['created_at']}  {o['client_order_id']:<26} {o['side']:<4} {o['amount']:g} {o['symbol']} "
            f"filled {o['filled']:g} @ {average} fee {o['fee']:g}  {o['status']}  ({o['venue']})"
        )
