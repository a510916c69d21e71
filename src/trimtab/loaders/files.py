"""Reading a TOML or JSON document, chosen by the file's suffix."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

from trimtab.errors import BadInputError

SUFFIXES = (".toml", ".json")


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
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(source, "", "no such file") from None
    except IsADirectoryError:
        raise BadInputError(source, "", "is a folder, not a file") from None
    except OSError as exc:
        raise BadInputError(source, "", f"cannot be read ({exc.strerror})") from None
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
    except ValueError as exc:
        raise BadInputError(source, "", f"is not valid JSON ({exc})") from None
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
