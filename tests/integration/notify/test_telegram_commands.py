"""Telegram commands against a local Bot API stand-in: allow-listed chats act on the journal, others are ignored."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from trimtab.notify.commands import TelegramCommands, build_commands
from trimtab.notify.config import load_notify_config
from trimtab.storage import Store, open_store
from trimtab.storage.journal import Journal
from trimtab.web.controls import trading_state
from trimtab.web.sample import seed_sample_journal

TOKEN = "123456:canary-bot-token"
OWNER, STRANGER = "4242", "666"


class BotApi:
    """getUpdates answers the queued updates once (as Telegram does after the offset moves); sendMessage is kept."""

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.offsets: list[str | None] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        self.url = ""

    def message(self, update_id: int, chat: str, text: str) -> None:
        self.pending.append({"update_id": update_id, "message": {"chat": {"id": int(chat)}, "text": text}})


@pytest.fixture
def bot() -> Iterator[BotApi]:
    api = BotApi()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            with api.lock:
                api.paths.append(url.path)
                api.offsets.append((parse_qs(url.query).get("offset") or [None])[0])
                updates, api.pending = api.pending, []
            self._answer({"ok": True, "result": updates})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"null")
            with api.lock:
                api.paths.append(urlparse(self.path).path)
                api.sent.append(body)
            self._answer({"ok": True, "result": {}})

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'trimtab-paper.db'}")
    seed_sample_journal(opened)
    yield opened
    opened.close()


def test_allowed_chats_drive_the_controls_and_others_are_ignored(
    bot: BotApi, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    commands = TelegramCommands(TOKEN, {OWNER}, store, bot.url, poll_timeout=0)
    bot.message(10, OWNER, "/status")
    bot.message(11, STRANGER, "/kill take over")
    bot.message(12, OWNER, "/pause maintenance")
    bot.message(13, OWNER, "hello")  # not a command: no answer
    with caplog.at_level(logging.WARNING, logger="trimtab.notify"):
        assert commands.poll_once() == 4
    assert [m["chat_id"] for m in bot.sent] == [OWNER, OWNER]
    status, paused = (m["text"] for m in bot.sent)
    assert status.splitlines()[0] == "loop stopped: no trimtab run has written to this journal"
    assert "equity 102,380.00 USDT (cycle 4)" in status
    assert paused == "orders: paused (maintenance)"
    assert trading_state(store).mode == "paused"  # the stranger's /kill did nothing
    assert "ignored a Telegram command from chat 666" in caplog.text
    assert TOKEN not in caplog.text

    bot.message(14, OWNER, "/kill@trimtab_bot exchange incident")
    bot.message(15, OWNER, "/resume")
    bot.message(16, OWNER, "/release")
    bot.message(17, OWNER, "/what")
    commands.poll_once()
    assert bot.offsets[-1] == "14"  # the next poll asks for updates after the last one read
    texts = [m["text"] for m in bot.sent[2:]]
    assert texts[0] == "orders: halted (exchange incident)"
    assert texts[1].startswith("refused: the kill switch is on (exchange incident)")
    assert texts[2] == "orders: trading"
    assert texts[3].startswith("/status: is the loop alive")
    assert trading_state(store).mode == "trading"
    sources = [(d["kind"], d["payload"].get("source")) for d in Journal(store).decisions() if d["payload"]]
    assert [s for s in sources if s[1] == "telegram"] == [
        ("pause", "telegram"), ("halt", "telegram"), ("release", "telegram"),
    ]  # fmt: skip
    assert all(path.startswith(f"/bot{TOKEN}/") for path in bot.paths)


def test_the_notify_file_turns_commands_on_for_its_chat_only(tmp_path: Path, bot: BotApi, store: Store) -> None:
    (tmp_path / "notify.toml").write_text(
        f'[[telegram]]\nchat_id = "{OWNER}"\nbase_url = "{bot.url}"\ncommands = true\n'
        f'[[telegram]]\nchat_id = "9"\nbase_url = "{bot.url}"\n'
    )
    config = load_notify_config(tmp_path / "notify.toml")
    [poller] = build_commands(config, store, {"TRIMTAB_TELEGRAM_TOKEN": TOKEN})
    assert poller.allowed == {OWNER}
    assert TOKEN not in repr(poller)


def test_trimtab_run_answers_commands_while_it_loops(tmp_path: Path, bot: BotApi) -> None:
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    examples = Path(__file__).resolve().parents[3] / "examples"
    for name in ("policy.toml", "portfolio.toml", "market.json"):
        shutil.copy(examples / name, tmp_path / name)
    (tmp_path / "notify.toml").write_text(
        f'[[telegram]]\nchat_id = "{OWNER}"\nbase_url = "{bot.url}"\ncommands = true\nkinds = ["kill"]\n'
    )
    bot.message(1, OWNER, "/pause from my phone")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB")}, "TRIMTAB_TELEGRAM_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "trimtab", "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml",
         "--market", "market.json", "--interval", "30", "--notify", "notify.toml"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(m["text"].startswith("orders:") for m in bot.sent):
            time.sleep(0.2)
        assert [m["text"] for m in bot.sent if m["text"].startswith("orders:")] == ["orders: paused (from my phone)"]
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert TOKEN not in err
    finally:
        if process.poll() is None:
            process.kill()
    store = open_store(f"sqlite:///{tmp_path / 'trimtab-paper.db'}")
    try:
        assert trading_state(store).mode == "paused"
        kinds = [(d["kind"], d["payload"].get("source")) for d in Journal(store).decisions() if d["payload"]]
        assert ("pause", "telegram") in kinds
    finally:
        store.close()
