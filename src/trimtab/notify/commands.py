"""Telegram commands: ``/status``, ``/pause``, ``/resume``, ``/kill`` and ``/release`` from allow-listed chats.

With ``commands = true`` in a ``[[telegram]]`` channel, ``trimtab run`` polls the Bot API (``getUpdates``,
long polling) on a background thread. A message from a chat in ``allowed_chats`` (by default the channel's
own ``chat_id``) that starts with a command is carried out on the run's journal through the dashboard's own
controls (:class:`trimtab.web.controls.Controls`, decisions with ``"source": "telegram"``) and answered in
that chat. Messages from any other chat are ignored, unanswered, and logged by chat id only. The bot token
never appears in a log or an answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from trimtab.notify.channels import public_part
from trimtab.storage.database import Store

log = logging.getLogger("trimtab.notify")
HELP = (
    "/status: is the loop alive, equity, classes outside their band\n"
    "/pause [reason]: no new orders until /resume\n"
    "/resume: lift a pause\n"
    "/kill [reason]: the kill switch; only /release lifts it\n"
    "/release: clear the kill switch and any pause"
)
POLL_TIMEOUT_S = 25
MAX_BACKOFF_S = 300.0
IDLE_WAIT_S = 0.5


class TelegramCommands:
    """Answers the commands of allow-listed chats on ``store``; ``poll_once`` reads one batch of updates."""

    def __init__(
        self,
        bot_token: str,
        allowed_chats: set[str],
        store: Store,
        base_url: str,
        *,
        poll_timeout: int = POLL_TIMEOUT_S,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._token = bot_token
        self.allowed = {str(chat) for chat in allowed_chats}
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.poll_timeout = poll_timeout
        self._client = client or httpx.Client(timeout=poll_timeout + 10, follow_redirects=False)
        self._offset: int | None = None
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"TelegramCommands(allowed={sorted(self.allowed)!r}, base_url={public_part(self.base_url)!r})"

    # ------------------------------------------------------------------ the commands
    def handle(self, update: Mapping[str, Any]) -> tuple[str, str] | None:
        """The chat and the answer to one update, or None when it is not a command from an allowed chat."""
        message = update.get("message") or update.get("edited_message") or {}
        chat = str((message.get("chat") or {}).get("id", ""))
        text = str(message.get("text") or "").strip()
        if not text.startswith("/"):
            return None
        if chat not in self.allowed:
            log.warning("ignored a Telegram command from chat %s (not in allowed_chats)", chat)
            return None
        word, _, rest = text.partition(" ")
        command = word[1:].split("@", 1)[0].lower()
        return chat, self.answer(command, rest.strip())

    def answer(self, command: str, reason: str) -> str:
        """Carry out ``command`` on the journal and say what the loop's state is now."""
        from trimtab.web.controls import ActionError, Controls

        if command == "status":
            return status_text(self.store)
        actions = {"pause", "resume", "kill", "release"}
        if command not in actions:
            return HELP
        controls = Controls(self.store, source="telegram")
        try:
            state = getattr(controls, command)(reason)
        except ActionError as error:
            return f"refused: {error}"
        return f"orders: {state.mode}" + (f" ({state.reason})" if state.reason else "")

    # ------------------------------------------------------------------ the Bot API
    def poll_once(self) -> int:
        """Read the pending updates, answer each command; returns how many updates were read."""
        params: dict[str, Any] = {"timeout": self.poll_timeout, "allowed_updates": '["message","edited_message"]'}
        if self._offset is not None:
            params["offset"] = self._offset
        response = self._client.get(f"{self.base_url}/bot{self._token}/getUpdates", params=params)
        if response.status_code >= 300:
            raise httpx.HTTPStatusError(f"HTTP {response.status_code}", request=response.request, response=response)
        updates = response.json().get("result") or []
        for update in updates:
            self._offset = int(update.get("update_id", 0)) + 1
            reply = self.handle(update)
            if reply is not None:
                chat, text = reply
                self._client.post(
                    f"{self.base_url}/bot{self._token}/sendMessage", json={"chat_id": chat, "text": text[:4000]}
                )
        return len(updates)

    def start(self) -> TelegramCommands:
        """Poll on a background thread until :meth:`close`; failures back off (doubling) and are logged."""

        def loop() -> None:
            backoff = 1.0
            while not self._stop.is_set():
                try:
                    if self.poll_once() == 0:
                        self._sleep(IDLE_WAIT_S)  # a server that does not hold the long poll is not hammered
                    backoff = 1.0
                except Exception as error:  # never raised into the run: logged, retried later
                    log.warning("Telegram commands %s: %s", public_part(self.base_url), type(error).__name__)
                    self._sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)

        self._thread = threading.Thread(target=loop, name="trimtab-telegram-commands", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop polling (a long poll in flight ends with its timeout; the thread is a daemon)."""
        self._stop.set()
        self._client.close()


def status_text(store: Store) -> str:
    """``/status``: the loop's liveness, the brake, equity and the classes outside their band."""
    from trimtab.storage.heartbeat import liveness
    from trimtab.web.controls import trading_state
    from trimtab.web.queries import valuation_view

    alive = liveness(store)
    view = valuation_view(store)
    lines = [f"loop {alive.sentence()}", f"orders: {trading_state(store).mode}"]
    if view["available"]:
        lines.append(f"equity {view['equity']:,.2f} {view['base_currency']} (cycle {view['cycle']})")
        lines.append("outside their band: " + (", ".join(view["breached"]) or "none"))
    return "\n".join(lines)


def build_commands(config: Any, store: Store, environ: Mapping[str, str]) -> list[TelegramCommands]:
    """One poller per ``[[telegram]]`` channel with ``commands = true`` (not started)."""
    pollers = []
    for chat in config.telegram:
        if chat.commands:
            allowed = set(chat.allowed_chats or [chat.chat_id])
            pollers.append(TelegramCommands(environ.get(chat.token_env, ""), allowed, store, chat.base_url))
    return pollers
