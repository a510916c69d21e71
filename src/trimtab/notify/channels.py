"""Where messages go: a generic JSON webhook and Telegram's Bot API (``sendMessage``).

A notifier sends one message for a batch of events and raises :class:`NotifyError` when it cannot; the
hub catches it. Secrets (the bot token, a webhook URL's path and query) never appear in an error's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from trimtab.notify.events import Event, summary

DEFAULT_TIMEOUT_S = 5.0
TELEGRAM_API = "https://api.telegram.org"
TELEGRAM_LIMIT = 4096
"""Telegram refuses a message longer than this many characters."""


class NotifyError(Exception):
    """A message could not be delivered (the text names the channel, never its secret)."""


class Notifier(Protocol):
    """Sends one message for a batch of events; raises :class:`NotifyError` on failure."""

    name: str

    def send(self, events: Sequence[Event]) -> None: ...


def public_part(url: str) -> str:
    """``scheme://host[:port]`` of a URL: safe to show, as paths and queries often carry tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class WebhookNotifier:
    """POSTs ``{"source": "trimtab", "text": ..., "events": [...]}`` as JSON to ``url``."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        client: httpx.Client | None = None,
        name: str = "webhook",
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"webhook URL must be http(s), not {public_part(url)}")
        self.name = name
        self._url = url
        self._headers = dict(headers or {})
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"WebhookNotifier({public_part(self._url)})"

    def send(self, events: Sequence[Event]) -> None:
        body = {"source": "trimtab", "text": summary(events), "events": [event.to_dict() for event in events]}
        try:
            response = self._client.post(self._url, json=body, headers=self._headers)
        except httpx.HTTPError as error:
            raise NotifyError(f"{self.name} {public_part(self._url)}: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise NotifyError(f"{self.name} {public_part(self._url)}: HTTP {response.status_code}")


class TelegramNotifier:
    """Sends the events' summary to a chat with the Bot API's ``sendMessage``.

    ``base_url`` is Telegram's API by default; point it at another server (a local receiver in tests, a
    self-hosted Bot API server).
    """

    def __init__(
        self,
        bot_token: str,
        chat_id: str,
        base_url: str = TELEGRAM_API,
        timeout: float = DEFAULT_TIMEOUT_S,
        client: httpx.Client | None = None,
        name: str = "telegram",
    ) -> None:
        if not bot_token or not chat_id:
            raise ValueError("telegram needs a bot token and a chat id")
        self.name = name
        self._token = bot_token
        self.chat_id = chat_id
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"TelegramNotifier(chat_id={self.chat_id!r}, base_url={public_part(self.base_url)!r})"

    def send(self, events: Sequence[Event]) -> None:
        text = summary(events)
        if len(text) > TELEGRAM_LIMIT:
            text = text[: TELEGRAM_LIMIT - 1] + "…"
        url = f"{self.base_url}/bot{self._token}/sendMessage"
        body = {"chat_id": self.chat_id, "text": text, "disable_web_page_preview": True}
        try:
            response = self._client.post(url, json=body)
        except httpx.HTTPError as error:
            raise NotifyError(f"{self.name} {public_part(self.base_url)}: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise NotifyError(f"{self.name} {public_part(self.base_url)}: HTTP {response.status_code}")
        try:
            ok = bool(response.json().get("ok", False))
        except ValueError:
            ok = False
        if not ok:
            raise NotifyError(f"{self.name} {public_part(self.base_url)}: the Bot API did not answer ok")
