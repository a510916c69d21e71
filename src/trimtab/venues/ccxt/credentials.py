"""API keys for a ccxt venue: from the environment or from a key file readable by its owner only.

Keys are held in a :class:`Credentials` whose ``repr`` never shows them; :meth:`Credentials.redact` removes
them from any text (log lines, error messages) before it leaves the adapter. Use trade-only keys: trimtab
never withdraws, and a key that cannot withdraw limits the damage of a leak.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trimtab.errors import BadInputError
from trimtab.loaders.files import read_regular_file

MAX_KEY_FILE_BYTES = 64 * 1024
"""A key file holds three short strings; anything larger is not one."""
GENERIC_KEY = "TRIMTAB_API_KEY"
GENERIC_SECRET = "TRIMTAB_API_SECRET"
GENERIC_PASSWORD = "TRIMTAB_API_PASSWORD"
_REDACTED = "***"


@dataclass(frozen=True)
class Credentials:
    """An API key pair (and the passphrase some exchanges ask for); never shown by ``repr`` or ``str``."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    password: str | None = field(default=None, repr=False)
    source: str = "unknown"

    def __repr__(self) -> str:
        return f"Credentials(source={self.source!r}, api_key={_REDACTED!r}, secret={_REDACTED!r})"

    __str__ = __repr__

    def redact(self, text: str) -> str:
        """``text`` with the key, the secret and the passphrase replaced by ``***``."""
        for value in (self.api_key, self.secret, self.password):
            if value:
                text = text.replace(value, _REDACTED)
        return text

    def ccxt_config(self) -> dict[str, str]:
        """The fields ccxt's constructor takes (``apiKey``, ``secret``, ``password``)."""
        config = {"apiKey": self.api_key, "secret": self.secret}
        if self.password:
            config["password"] = self.password
        return config


def venue_env_prefix(exchange_id: str) -> str:
    """The per-venue environment prefix: ``binanceusdm`` -> ``TRIMTAB_BINANCEUSDM_``."""
    return "TRIMTAB_" + re.sub(r"[^A-Za-z0-9]", "_", exchange_id).upper() + "_"


def load_credentials(
    exchange_id: str,
    key_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials | None:
    """Find the API keys for a venue.

    Order of precedence: ``key_file`` when given; then ``TRIMTAB_<ID>_API_KEY`` / ``TRIMTAB_<ID>_API_SECRET``
    (``<ID>`` is the ccxt exchange id in capitals); then ``TRIMTAB_API_KEY`` / ``TRIMTAB_API_SECRET``.
    A ``..._API_PASSWORD`` variable (or ``password`` key) supplies a passphrase where an exchange needs one.

    Returns
    -------
    Credentials or None
        None when no key is configured anywhere (public data only).

    Raises
    ------
    BadInputError
        The key file is missing, unreadable, malformed, or readable by anyone but its owner (it must be
        ``chmod 600``); or only half of a key pair is set.
    """
    if key_file is not None:
        return _from_file(key_file)
    env = os.environ if environ is None else environ
    prefix = venue_env_prefix(exchange_id)
    for key_name, secret_name, password_name in (
        (prefix + "API_KEY", prefix + "API_SECRET", prefix + "API_PASSWORD"),
        (GENERIC_KEY, GENERIC_SECRET, GENERIC_PASSWORD),
    ):
        key, secret = env.get(key_name), env.get(secret_name)
        if key or secret:
            if not (key and secret):
                missing = secret_name if key else key_name
                raise BadInputError("environment", missing, f"is not set, but {key_name if key else secret_name} is")
            return Credentials(key, secret, env.get(password_name) or None, source=f"environment ({key_name})")
    return None


def _from_file(path: Path) -> Credentials:
    source = path.name
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise BadInputError(source, "", f"cannot read the key file: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BadInputError(
            source,
            "",
            f"the key file must be readable by its owner only (mode is {stat.S_IMODE(mode):o}; run chmod 600)",
        )
    raw = read_regular_file(path, MAX_KEY_FILE_BYTES)  # a FIFO or a device is refused, never waited on
    try:
        text = raw.decode("utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        # the parser's message may quote the file's content: never echo it
        raise BadInputError(source, "", f"not a valid key file ({type(exc).__name__})") from None
    allowed = {"api_key", "secret", "password"}
    for name in data:
        if name not in allowed:
            raise BadInputError(source, str(name), "unknown key (expected api_key, secret and optionally password)")
    for name in ("api_key", "secret"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise BadInputError(source, name, "must be a non-empty string")
    password = data.get("password")
    if password is not None and not isinstance(password, str):
        raise BadInputError(source, "password", "must be a string")
    return Credentials(data["api_key"], data["secret"], password or None, source=f"key file {source}")


class RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Stands in for ccxt's logger and scrubs credentials from its lines (its debug lines include headers)."""

    def __init__(self, logger: logging.Logger, redact: Callable[[str], str]) -> None:
        super().__init__(logger, {})
        self._redact = redact

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            self.logger.log(level, self._redact(text), **kwargs)
