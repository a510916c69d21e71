"""``trimtab snapshot``: a market snapshot for ``trimtab plan --market`` from an exchange's public endpoints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from trimtab.cli.options import FormatOption
from trimtab.cli.options import output_format as check_format
from trimtab.errors import BadInputError


def register(app: typer.Typer) -> None:
    """Add ``snapshot`` to the application."""
    app.command(
        "snapshot", help="Build a market snapshot (prices, marks, funding, lot rules) from an exchange for a policy."
    )(snapshot_command)


def snapshot_command(
    policy: Annotated[Path, typer.Option("--policy", help="The policy whose assets and hedges to price.")],
    venue: Annotated[str, typer.Option("--venue", help="A ccxt exchange id (binance, binanceusdm...).")] = "binance",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the snapshot here (atomically).", show_default=False)
    ] = None,
    testnet: Annotated[bool, typer.Option("--testnet", help="The exchange's test environment.")] = False,
    venue_config: Annotated[
        Path | None, typer.Option("--venue-config", help="Extra ccxt settings (JSON: urls, timeout...).")
    ] = None,
    fmt: FormatOption = "json",
) -> None:
    """Ask the exchange's public endpoints (no key) and print or write the snapshot; ``plan`` reads it."""
    chosen = check_format(fmt)
    from trimtab.cli.plan import check_output_path, write_atomically
    from trimtab.feed.snapshot import build_snapshot
    from trimtab.loaders.files import read_document
    from trimtab.loaders.policy import load_policy

    if output is not None:
        check_output_path("--output", output)
        if output.suffix.lower() != ".json":
            raise BadInputError("--output", "", f"{output.name} must end in .json")
    loaded = load_policy(policy)
    settings = read_document(venue_config) if venue_config is not None else {}
    exchange = _exchange(venue, settings, testnet)
    try:
        document = build_snapshot(exchange, loaded)
    finally:
        close = getattr(exchange, "close", None)
        if callable(close):
            close()
    text = json.dumps(document, indent=2)
    if output is not None:
        write_atomically(output, text + "\n")
        _check(output)
    if chosen == "json":
        sys.stdout.write(text + "\n")
    else:
        prices = ", ".join(f"{asset} {price:,.2f}" for asset, price in document["prices"].items())
        typer.echo(f"{document['timestamp']}  {prices}")
        for symbol, quote in document["derivatives"].items():
            typer.echo(
                f"  {symbol}: mark {quote['mark']:,.2f}, funding {quote['funding_rate']:.6f} "
                f"per {quote['funding_interval_hours']:g} h"
            )
        if output is not None:
            typer.echo(f"written to {output}")


def _exchange(venue: str, settings: dict[str, Any], testnet: bool) -> Any:
    from trimtab.feed.snapshot import public_exchange

    return public_exchange(venue, settings, testnet)


def _check(path: Path) -> None:
    """The written file is a valid market snapshot (the loader ``plan`` uses)."""
    from trimtab.loaders.market import load_market

    load_market(path)
