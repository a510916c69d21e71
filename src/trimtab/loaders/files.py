"""Reading a TOML or JSON document, chosen by the file's suffix; only regular files, of a bounded size.

A device (a symlink to ``/dev/zero``), a FIFO or a socket given where a file is expected is refused at
once, never read: it could block for ever or never end. The file is opened without following it into a
blocking read (``O_NONBLOCK``), checked with ``fstat`` on that very descriptor, then read up to its limit.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from trimtab.errors import BadInputError

SUFFIXES = (".toml", ".json")
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""The largest policy, portfolio, market or settings file read (a portfolio of 100,000 rows is far smaller)."""


def read_regular_file(path: Path, limit: int, source: str | None = None) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes.

    Raises
    ------
    BadInputError
        If the file is missing, a folder, a device, FIFO or socket, larger than ``limit``, or unreadable.
    """
    name = source or path.name
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise BadInputError(name, "", "no such file") from None
    except IsADirectoryError:
        raise BadInputError(name, "", "is a folder, not a file") from None
    except OSError as exc:
        raise BadInputError(name, "", f"cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise BadInputError(name, "", "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise BadInputError(name, "", "is not a regular file (a device, FIFO or socket); give a file")
        if info.st_size > limit:
            raise BadInputError(name, "", f"is larger than {limit // (1024 * 1024)} MiB")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise BadInputError(name, "", f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(handle)
    if len(data) > limit:  # it grew while being read
        raise BadInputError(name, "", f"is larger than {limit // (1024 * 1024)} MiB")
    return data


def read_document(path: Path | str) -> dict[str, Any]:
    """Read a TOML or JSON file into a dict.

    Raises
    ------
    BadInputError
        If the file is missing, unreadable, has another suffix, is malformed, or is not a table/object.
    """
    path = Path(path)
    source = path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInputError(source, "", "must end in .toml or .json")
    raw = read_regular_file(path, MAX_DOCUMENT_BYTES, source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError(source, "", "is not UTF-8 text") from None
    try:
        if suffix == ".toml":
            document: Any = tomllib.loads(text)
        else:
            document = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(source, "", f"is not valid TOML ({exc})") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(source, "", f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except ValueError as exc:  # tomllib raises it too, for an impossible date such as 2024-02-30
        kind = "TOML" if suffix == ".toml" else "JSON"
        raise BadInputError(source, "", f"is not valid {kind} ({exc})") from None
    except RecursionError:
        raise BadInputError(source, "", "is nested too deeply") from None
    if not isinstance(document, dict):
        raise BadInputError(source, "", "must hold a table (TOML) or an object (JSON) at the top")
    return document


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON itself allows a repeated key (the last one wins); in a configuration it is always a mistake.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number trimtab accepts")


def is_finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
