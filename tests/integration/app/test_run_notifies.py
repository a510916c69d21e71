"""``trimtab run --notify``: each cycle's trigger and trades reach a webhook on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
TO_TARGET = ROOT / "tests" / "data" / "policy-to-target.toml"
"""The example policy traded to target: its rebalance of the example portfolio has four legs."""


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_cycle_that_trades_sends_its_trigger_and_trades_to_the_webhook(
    tmp_path: Path,
    webhook: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from trimtab.cli.main import app

    url, received = webhook
    for name in ("portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    shutil.copy(TO_TARGET, tmp_path / "policy.toml")  # four trades, each of which must reach the webhook
    (tmp_path / "notify.toml").write_text(f'[[webhook]]\nurl = "{url}"\n')
    (tmp_path / "execution.toml").write_text('algo = "market"\n')
    monkeypatch.chdir(tmp_path)
    app(
        args=[
            "run",
            "--policy",
            "policy.toml",
            "--portfolio",
            "portfolio.toml",
            "--market",
            "market.json",
            "--execution",
            "execution.toml",
            "--notify",
            "notify.toml",
            "--once",
            "--format",
            "json",
        ],
        standalone_mode=False,
    )
    line = json.loads(capsys.readouterr().out)
    kinds = [event["kind"] for message in received for event in message["events"]]
    assert "trigger" in kinds
    assert kinds.count("trade") == len(line["orders"]) == 4
