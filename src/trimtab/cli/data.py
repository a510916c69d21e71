"""``trimtab data``: list, import and download market history in the data folder's layout.

Heavy modules (numpy, ccxt, rich) are imported inside the commands so ``trimtab --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from trimtab.cli.options import FormatOption
from trimtab.cli.options import output_format as check_format
from trimtab.cli.plan import parse_time_option
from trimtab.errors import BadInputError

DEFAULT_DATA = Path("data/market")

data_app = typer.Typer(
    name="data",
    help="List, import and download market history (the folder that backtest --data reads).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to the application."""
    app.add_typer(data_app, name="data")


DataOption = Annotated[Path, typer.Option("--data", help="The data folder.")]


def _check_format(output_format: str) -> None:
    check_format(output_format)


def _emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


@data_app.command("list", help="Every file of the data folder: kind, asset, timeframe, rows, range and gaps.")
def list_command(
    data: DataOption = DEFAULT_DATA,
    output_format: FormatOption = "text",
    show_gaps: Annotated[bool, typer.Option("--gaps", help="Also print every gap, one line each.")] = False,
) -> None:
    """List the data folder's files."""
    _check_format(output_format)
    from trimtab.feed.catalog import summarize

    summaries = summarize(data)
    if output_format == "json":
        _emit_json({"data": str(data), "files": [summary.as_dict() for summary in summaries]})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Market data in {data}", title_justify="left")
    for heading, justify in [
        ("File", "left"),
        ("Kind", "left"),
        ("Asset", "left"),
        ("TF", "left"),
        ("Rows", "right"),
        ("First", "left"),
        ("Last", "left"),
        ("Gaps (missing)", "right"),
    ]:
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for summary in summaries:
        gaps = f"{summary.gaps} ({summary.missing_bars})" if summary.gaps else "0"
        table.add_row(
            summary.file,
            summary.kind,
            f"{summary.asset}-{summary.quote}",
            summary.timeframe,
            f"{summary.rows:,}",
            summary.first or "",
            summary.last or "",
            gaps,
        )
    console = Console(width=max(Console().width, 140))
    console.print(table)
    if show_gaps:
        for summary in summaries:
            for line in summary.gap_list:
                console.print(f"{summary.file}: {line}", highlight=False)


@data_app.command("import", help="Validate CSV files in the folder's layout (or freqtrade JSON) and merge them in.")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="CSV (.csv/.csv.gz) or freqtrade JSON files.")],
    data: DataOption = DEFAULT_DATA,
    target_name: Annotated[
        str | None,
        typer.Option("--as", help="Target name such as spot_BTC-USDT_1d.csv.gz (one file only).", show_default=False),
    ] = None,
    output_format: FormatOption = "text",
) -> None:
    """Import files into the data folder."""
    _check_format(output_format)
    if target_name is not None and len(files) != 1:
        raise BadInputError("--as", "", "names one target, so give exactly one file")
    if not data.is_dir():
        raise BadInputError("--data", "", f"{data} is not a folder")
    from trimtab.feed.catalog import import_file

    outcomes = [import_file(path, data, target_name) for path in files]
    if output_format == "json":
        _emit_json({"imported": [vars_of(outcome) for outcome in outcomes]})
        return
    for outcome in outcomes:
        typer.echo(
            f"{outcome.file}: {outcome.added} rows added, {outcome.replaced} replaced, {outcome.rows} rows in all"
        )


def vars_of(outcome: Any) -> dict[str, Any]:
    return {name: getattr(outcome, name) for name in outcome.__slots__}


@data_app.command("download", help="Download candles (and perpetual funding) through ccxt, resuming from disk.")
def download_command(
    symbols: Annotated[str, typer.Option("--symbols", help="Comma-separated: BTC/USDT,ETH/USDT,BTC/USDT:USDT.")],
    exchange: Annotated[str, typer.Option("--exchange", help="A ccxt exchange id.")] = "binance",
    timeframe: Annotated[str, typer.Option("--timeframe", help="1m, 1h, 1d...")] = "1d",
    since: Annotated[
        str | None,
        typer.Option("--since", help="Start (ISO 8601) for series with no file yet; files resume.", show_default=False),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Stop at this time (ISO 8601).", show_default=False)
    ] = None,
    data: DataOption = DEFAULT_DATA,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url", help="Send requests to this base URL (a mirror or a local test server).", hidden=True
        ),
    ] = None,
    output_format: FormatOption = "text",
) -> None:
    """Download history into the data folder."""
    _check_format(output_format)
    wanted = [symbol.strip() for symbol in symbols.split(",") if symbol.strip()]
    if not wanted:
        raise BadInputError("--symbols", "", "name at least one symbol, e.g. BTC/USDT")
    since_ms = _ms(parse_time_option("--since", since)) if since is not None else None
    until_ms = _ms(parse_time_option("--until", until)) if until is not None else None
    data.mkdir(parents=True, exist_ok=True)

    from trimtab.feed.download import Downloader, make_exchange

    client = make_exchange(exchange, api_url)

    def progress(label: str, rows: int) -> None:
        if output_format != "json":
            print(f"\r{label}: {rows} rows", end="", file=sys.stderr, flush=True)

    outcomes = Downloader(client, data, on_page=progress).download(wanted, timeframe, since_ms, until_ms)
    if output_format != "json":
        print(file=sys.stderr)
    if output_format == "json":
        _emit_json({"exchange": exchange, "downloaded": [outcome.as_dict() for outcome in outcomes]})
        return
    for outcome in outcomes:
        typer.echo(f"{outcome.file}: {outcome.fetched} new rows, {outcome.rows} rows in all ({outcome.pages} requests)")
        for line in outcome.gaps:
            typer.echo(f"  gap: {line}")


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)
