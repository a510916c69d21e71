"""The run configuration file (``trimtab run --config trimtab.toml``) and its environment overrides.

One TOML or JSON file holds every setting of a run: ``[run]`` (what the flags of ``trimtab run`` give),
``[execution]`` (the execution settings and caps), ``[notify]`` (the notification channels) and ``[serve]``
(the dashboard). Any key can be overridden from the environment with ``TRIMTAB__SECTION__KEY`` (for a
nested table, ``TRIMTAB__NOTIFY__RATE__BURST``); a flag given on the command line wins over both. The
value of an environment variable is read as a TOML value when it is one (``300``, ``true``,
``["BTC/USDT"]``) and as a string otherwise (``binance``, ``postgresql+psycopg://db/trimtab``).

Paths in the file are relative to the file's folder. Exchange keys never go in it: they come from the
environment or from a key file readable by its owner only (``run.keys``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from trimtab.errors import BadInputError
from trimtab.execution.config import ExecutionConfig
from trimtab.loaders.files import read_document
from trimtab.loaders.validation import validate
from trimtab.notify.config import NotifyFile
from trimtab.policy.config import StrictModel

ENV_PREFIX = "TRIMTAB__"
PATH_KEYS = ("policy", "portfolio", "market", "data", "keys", "venue_config", "reports", "token_file")
"""Keys whose values are file or folder paths (relative to the configuration file's folder)."""


class RunSection(StrictModel):
    """What the flags of ``trimtab run`` give; each flag, when given, wins over its key."""

    policy: str | None = None
    venue: str = Field(default="paper", min_length=1)
    state: str | None = None
    interval: float = Field(default=60.0, ge=0)
    cycles: int | None = Field(default=None, ge=1)
    dry_run: bool = False
    approve: bool = False
    format: Literal["text", "json"] = "text"
    portfolio: str | None = None
    market: str | None = None
    data: str | None = None
    prices: str | None = None
    at: str | None = None
    keys: str | None = None
    testnet: bool = False
    demo: bool = False
    venue_config: str | None = None


class ServeSection(StrictModel):
    """What the flags of ``trimtab serve`` give."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    allow_remote: bool = False
    allowed_host: list[str] = []
    reports: str | None = None
    token_file: str | None = None
    refresh: float = Field(default=5.0, ge=0)


class Settings(StrictModel):
    """The whole configuration file."""

    run: RunSection = RunSection()
    execution: ExecutionConfig = ExecutionConfig()
    notify: NotifyFile | None = None
    serve: ServeSection = ServeSection()


def load_settings(path: Path | None, environ: Mapping[str, str], flags: Mapping[str, Any] | None = None) -> Settings:
    """The configuration: defaults, then the file, then ``TRIMTAB__`` variables, then the flags given.

    Parameters
    ----------
    path:
        The configuration file, or None for none (the environment and the flags still apply).
    environ:
        The environment to read ``TRIMTAB__SECTION__KEY`` variables from.
    flags:
        ``section.key`` -> value for the flags given on the command line (already parsed by the CLI).

    Raises
    ------
    BadInputError
        Naming the file and the field, or the environment variable, or the flag, then what is wrong.
    """
    document: dict[str, Any] = {}
    source = "configuration"
    if path is not None:
        document = read_document(path)
        source = path.name
        _resolve_paths(document, path.parent)
    origins: dict[str, str] = {}
    for name, value in sorted(environ.items()):
        if name.startswith(ENV_PREFIX):
            keys = [part.lower() for part in name.removeprefix(ENV_PREFIX).split("__")]
            if not all(keys) or len(keys) < 2:
                raise BadInputError(name, "", "must be TRIMTAB__SECTION__KEY (for example TRIMTAB__RUN__INTERVAL)")
            _place(document, keys, _env_value(value), name)
            origins[".".join(keys)] = name
    for dotted, value in (flags or {}).items():
        _place(document, dotted.split("."), value, "--" + dotted.split(".")[-1].replace("_", "-"))
        origins[dotted] = "--" + dotted.split(".")[-1].replace("_", "-")
    try:
        return validate(Settings, document, source)
    except BadInputError as error:
        origin = _origin(error.field, origins)
        if origin is None:
            raise
        raise BadInputError(origin, "", error.message) from None


def resolved_path(value: str | None) -> Path | None:
    """A path setting as a Path (None stays None)."""
    return None if value is None else Path(value)


def _env_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _place(document: dict[str, Any], keys: list[str], value: Any, origin: str) -> None:
    table = document
    for key in keys[:-1]:
        inner = table.setdefault(key, {})
        if not isinstance(inner, dict):
            raise BadInputError(origin, "", f"{key} is not a table in the configuration")
        table = inner
    table[keys[-1]] = value


def _origin(field: str, origins: Mapping[str, str]) -> str | None:
    for dotted, origin in origins.items():
        if field == dotted or field.startswith(dotted + ".") or field.startswith(dotted + "["):
            return origin
    return None


def _resolve_paths(document: dict[str, Any], folder: Path) -> None:
    for section in ("run", "serve"):
        table = document.get(section)
        if not isinstance(table, dict):
            continue
        for key in PATH_KEYS:
            value = table.get(key)
            if isinstance(value, str) and value:
                table[key] = str(folder / Path(value).expanduser())
