"""The notifications file (TOML or JSON): which channels, which events, how often.

```toml
[rate]
burst = 5              # messages at once
interval = 60.0        # then one per this many seconds (events in between are coalesced)

[[webhook]]
url_env = "TRIMTAB_WEBHOOK_URL"   # or url = "https://..." (a URL often carries a secret: prefer the env)
kinds = ["trigger", "trade", "guard", "error", "kill"]

[[telegram]]
chat_id = "123456789"
token_env = "TRIMTAB_TELEGRAM_TOKEN"   # the bot token is read from the environment only
# base_url = "https://api.telegram.org"
kinds = ["trade", "error", "kill"]
```
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trimtab.errors import BadInputError
from trimtab.loaders.files import read_document
from trimtab.loaders.validation import validate
from trimtab.notify.channels import TELEGRAM_API, TelegramNotifier, WebhookNotifier
from trimtab.notify.hub import NotificationHub, RateLimit

Kind = Literal["trigger", "trade", "guard", "error", "kill"]
ALL_KINDS: list[Kind] = ["trigger", "trade", "guard", "error", "kill"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateSection(_Strict):
    burst: int = Field(default=5, ge=1, le=100)
    interval: float = Field(default=60.0, gt=0, le=86_400)
    backoff: float = Field(default=30.0, gt=0, le=86_400)
    max_backoff: float = Field(default=900.0, gt=0, le=86_400)


class WebhookSection(_Strict):
    url: str | None = None
    url_env: str | None = None
    headers: dict[str, str] = {}
    kinds: list[Kind] = Field(default_factory=lambda: list(ALL_KINDS), min_length=1)
    timeout: float = Field(default=5.0, gt=0, le=60)


class TelegramSection(_Strict):
    chat_id: str = Field(min_length=1)
    token_env: str = "TRIMTAB_TELEGRAM_TOKEN"
    base_url: str = TELEGRAM_API
    kinds: list[Kind] = Field(default_factory=lambda: list(ALL_KINDS), min_length=1)
    timeout: float = Field(default=5.0, gt=0, le=60)
    commands: bool = False
    """Answer /status, /pause, /resume, /kill and /release (see :mod:`trimtab.notify.commands`)."""
    allowed_chats: list[str] = []
    """Chats whose commands are carried out; empty: ``chat_id`` only."""


class NotifyFile(_Strict):
    rate: RateSection = RateSection()
    webhook: list[WebhookSection] = []
    telegram: list[TelegramSection] = []


def load_notify_config(path: Path | str) -> NotifyFile:
    """Read and validate a notifications file.

    Raises
    ------
    BadInputError
        Naming the file and the field, for a malformed file or unknown keys.
    """
    path = Path(path)
    return validate(NotifyFile, read_document(path), path.name, strict=False)


def build_hub(config: NotifyFile, source: str = "notify", environ: dict[str, str] | None = None) -> NotificationHub:
    """A hub with the file's channels (not started: call ``start()``).

    Raises
    ------
    BadInputError
        When a webhook has no URL, or a Telegram bot token is missing from the environment.
    """
    env = dict(os.environ if environ is None else environ)
    rate = config.rate
    hub = NotificationHub(rate=RateLimit(rate.burst, rate.interval, rate.backoff, rate.max_backoff))
    for index, hook in enumerate(config.webhook):
        url = hook.url or (env.get(hook.url_env, "") if hook.url_env else "")
        if not url:
            where = f"the environment variable {hook.url_env}" if hook.url_env else "url or url_env"
            raise BadInputError(source, f"webhook[{index}]", f"needs a URL ({where} is empty)")
        try:
            notifier = WebhookNotifier(url, hook.headers, hook.timeout, name=f"webhook[{index}]")
        except ValueError as error:
            raise BadInputError(source, f"webhook[{index}].url", str(error)) from None
        hub.add(notifier, hook.kinds)
    for index, chat in enumerate(config.telegram):
        token = env.get(chat.token_env, "")
        if not token:
            raise BadInputError(source, f"telegram[{index}].token_env", f"{chat.token_env} is not set")
        hub.add(
            TelegramNotifier(token, chat.chat_id, chat.base_url, chat.timeout, name=f"telegram[{index}]"), chat.kinds
        )
    return hub
