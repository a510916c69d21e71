"""``trimtab serve``: the dashboard and HTTP API over the journal that ``trimtab run`` keeps.

Listens on 127.0.0.1 by default and refuses any other address without ``--allow-remote``. The access
token is made at first start and printed once; actions always need it, and reads need it too once the
server listens beyond loopback.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trimtab.cli.options import ConfigOption, StateOption, given_flags
from trimtab.errors import BadInputError

if TYPE_CHECKING:
    from trimtab.storage import Store

DEFAULT_PORT = 8765


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to the application."""
    app.command("serve", help="Serve the dashboard and HTTP API of a journal (127.0.0.1 by default).")(serve_command)


SERVE_FLAGS = {
    "host": "serve.host",
    "port": "serve.port",
    "allow_remote": "serve.allow_remote",
    "reports": "serve.reports",
    "allowed_host": "serve.allowed_host",
    "token_file": "serve.token_file",
    "refresh": "serve.refresh",
}
"""``serve``'s flags and the configuration keys they override when given on the command line."""


def serve_command(
    ctx: typer.Context,
    state: StateOption = None,
    config: ConfigOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = DEFAULT_PORT,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow an address other machines can reach; every request then needs the token. "
            "Put a TLS reverse proxy in front.",
        ),
    ] = False,
    reports: Annotated[
        Path | None, typer.Option("--reports", help="Folder of backtest HTML reports to list and serve.")
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option("--allowed-host", help="Extra Host header value to accept (the proxy's public name)."),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="Where the access token is kept (default: next to a SQLite journal)."),
    ] = None,
    rotate_token: Annotated[
        bool, typer.Option("--rotate-token", help="Make a new token; the old one stops working.")
    ] = False,
    refresh: Annotated[float, typer.Option("--refresh", help="Seconds between live updates of the overview.")] = 5.0,
) -> None:
    """Run the dashboard until interrupted."""
    import os

    from trimtab.cli.settings import load_settings, resolved_path
    from trimtab.cli.status import open_existing
    from trimtab.storage import default_state_url
    from trimtab.web.security import check_bind

    settings = load_settings(config, os.environ, given_flags(ctx, SERVE_FLAGS))
    serve = settings.serve
    host, port, allow_remote, refresh = serve.host, serve.port, serve.allow_remote, serve.refresh
    reports, token_file = resolved_path(serve.reports), resolved_path(serve.token_file)
    allowed_host = serve.allowed_host
    state_url = state or settings.run.state or default_state_url(settings.run.venue)

    check_bind(host, allow_remote)
    if not 0 <= port <= 65535:
        raise BadInputError("--port", "", f"{port} is not a port number")
    if refresh < 0:
        raise BadInputError("--refresh", "", "must not be negative")
    if reports is not None and not reports.is_dir():
        raise BadInputError("--reports", "", f"{reports} is not a folder")
    # Bind before anything else: a taken port is refused before anything is written, and the address
    # shown carries the port really used (--port 0 picks a free one).
    listener = listen(host, port)
    try:
        store = open_existing(state_url)
        try:
            run_server(
                listener,
                store,
                host,
                allow_remote,
                reports,
                tuple(allowed_host or ()),
                token_file,
                rotate_token,
                refresh,
            )
        finally:
            store.close()
    finally:
        listener.close()


def run_server(
    listener: socket.socket,
    store: Store,
    host: str,
    allow_remote: bool,
    reports: Path | None,
    extra_hosts: tuple[str, ...],
    token_file: Path | None,
    rotate_token: bool,
    refresh: float,
) -> None:
    """Build the application for ``store`` and serve it with uvicorn on ``listener`` (blocks until interrupted)."""
    import uvicorn

    from trimtab.storage import describe_url
    from trimtab.web import WebSettings, create_app
    from trimtab.web.limits import HeaderTimeoutProtocol
    from trimtab.web.security import load_or_create_token

    token = load_or_create_token(store, token_file, rotate=rotate_token)
    if token.new_token is not None:
        # Shown once: the server keeps only its digest in memory and never sends it back.
        typer.echo(f"Access token (shown once; kept in {token.location}):\n  {token.new_token}", err=True)
    else:
        typer.echo(f"Access token: in {token.location}", err=True)
    settings = WebSettings(
        token_sha256=token.token_sha256,
        host=host,
        allow_remote=allow_remote,
        reports=reports.resolve() if reports is not None else None,
        extra_hosts=extra_hosts,
        refresh_seconds=refresh,
    )
    application = create_app(store, settings)
    port = int(listener.getsockname()[1])
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"Serving {describe_url(store.url)} on http://{shown}:{port}/ (Ctrl-C stops)", err=True)
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        http=HeaderTimeoutProtocol,  # a request's headers must arrive within seconds, before any token check
    )
    uvicorn.Server(config).run(sockets=[listener])


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (uvicorn starts listening on it).

    Raises
    ------
    BadInputError
        If the address cannot be bound (the port is taken, the address is not this machine's).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise BadInputError("--port", "", f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return listener
