"""Turning pydantic's validation errors into one :class:`BadInputError` that names file and field.

Files are validated in pydantic's *strict* mode: a number must be written as a number (``true`` or
``"0.5"`` is not silently read as one), a flag as ``true``/``false``. Field paths name the keys as the
user wrote them and count list positions from 0 (``class[2].target`` is the third class).
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from trimtab.errors import BadInputError

ModelT = TypeVar("ModelT", bound=BaseModel)

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required but missing",
    "finite_number": "must be a finite number (not NaN or infinity)",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dataclass_type": "must be a table",
    "too_short": "must not be empty",
    "literal_error": "is not one of the allowed values",
    "union_tag_invalid": "is not a known kind",
    "union_tag_not_found": "needs a 'kind'",
    "datetime_type": "must be a time such as 2026-11-21T00:00:00Z",
    "datetime_parsing": "must be a time such as 2026-11-21T00:00:00Z",
    "datetime_from_date_parsing": "must be a time such as 2026-11-21T00:00:00Z",
}

ASSET_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
"""An asset code once upper-cased: letters, digits, then also ``.``, ``_`` or ``-`` (``BTC``, ``1000PEPE``)."""

_INTERNAL_PARTS = {"function-after", "function-before", "function-wrap", "function-plain"}


def field_path(loc: Sequence[int | str], document: Any = None) -> str:
    """Render a pydantic location as ``class[2].target`` (list positions count from 0).

    Parameters
    ----------
    loc:
        The ``loc`` of a pydantic error.
    document:
        The validated input. When given, location parts that are not keys of the input (a tagged
        union's tag such as ``cppi`` in ``strategy.cppi.floor``) are left out, except the last part,
        which may name a missing key.

    Returns
    -------
    str
        The path, keys with dots or slashes quoted: ``derivatives."BTC/USDT:USDT".mark``.
    """
    out = ""
    node: Any = document
    walk = document is not None
    last = len(loc) - 1
    for position, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if walk:
                node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
                walk = node is not None
            continue
        text = str(part)
        if text in _INTERNAL_PARTS or text.startswith("tagged-"):
            continue
        if walk:
            if isinstance(node, Mapping) and text in node:
                node = node[text]
            elif isinstance(node, Mapping) and position != last:
                continue  # a pydantic-internal step (a union's tag): not something the user wrote
            else:
                walk = False
        quoted = quote_key(text)
        out += f".{quoted}" if out else quoted
    return out


def quote_key(text: str) -> str:
    """A key as it appears in a field path: bare when plain, else quoted with unprintables escaped.

    ``BTC`` stays ``BTC``; ``BTC/USDT:USDT`` becomes ``"BTC/USDT:USDT"``; a newline becomes ``\\n`` so
    that a message stays on one line.
    """
    if text and text.replace("_", "").replace("-", "").isalnum() and text.isascii():
        return text
    escaped = "".join(_escape(char) for char in text)
    return f'"{escaped}"'


def _escape(char: str) -> str:
    if char in {'"', "\\"}:
        return "\\" + char
    if char.isprintable():
        return char
    return repr(char)[1:-1]  # \n, \x1c, \u2028: Python's escapes for what does not print


def one_line(text: str) -> str:
    """``text`` with every unprintable character (newlines included) escaped, so it prints on one line."""
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def check_asset_code(code: str) -> str | None:
    """Why ``code`` (already upper-cased) is not an asset code, or None when it is one."""
    if ASSET_CODE.match(code):
        return None
    return f"{code!r} is not an asset code such as 'BTC' (letters and digits, then also . _ -)"


def describe(error: Mapping[str, Any]) -> str:
    """One short sentence for one pydantic error (without the field's path)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "literal_error" and ctx.get("expected"):
        return f"must be one of {ctx['expected']}"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        words = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }
        bound = next(iter(ctx.values()), "?")
        text = f"{bound:g}" if isinstance(bound, int | float) and not isinstance(bound, bool) else str(bound)
        return f"must be {words[kind]} {text}"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    message = str(error.get("msg", "is not valid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def validate(model: type[ModelT], data: Any, source: str, *, strict: bool = True) -> ModelT:
    """Validate ``data`` against ``model``.

    Parameters
    ----------
    model:
        The pydantic model of the file.
    data:
        The parsed document.
    source:
        The file's name as the user gave it, for the message.
    strict:
        Validate in pydantic's strict mode (no string-to-number or bool-to-number coercion).

    Returns
    -------
    ModelT
        The validated model.

    Raises
    ------
    BadInputError
        For the first error, naming ``source`` and the field.
    """
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = describe(first)
        if first["type"] == "extra_forbidden" and first["loc"]:
            message += _suggestion(str(first["loc"][-1]), keys_at(model, tuple(first["loc"][:-1])))
        raise BadInputError(source, field_path(first["loc"], data), one_line(message)) from None
    except RecursionError:
        raise BadInputError(source, "", "is nested too deeply") from None


@cache
def known_keys(model: type[BaseModel]) -> frozenset[str]:
    """Every key (field name or alias) of ``model`` and of the models nested in its fields."""
    keys: set[str] = set()
    seen: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = [model]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for name, field in current.model_fields.items():
            keys.add(field.alias or name)
            kinds: list[object] = [field.annotation]
            while kinds:
                kind = kinds.pop()
                if isinstance(kind, type) and issubclass(kind, BaseModel):
                    pending.append(kind)
                kinds.extend(typing.get_args(kind))
    return frozenset(keys)


def keys_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> frozenset[str]:
    """The keys allowed in the table at ``loc`` of ``model`` (a pydantic location, list positions included).

    A suggestion for a mistyped key should come from its own table: ``rebalance.foo`` is not a near
    miss of ``strategy.cppi.floor``. Location parts that are not field names (list positions, the keys
    of a mapping such as a symbol, a union's tag) keep the models reached so far. Falls back to every
    key of ``model`` when the walk finds nothing.
    """
    models: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        reached: list[type[BaseModel]] = []
        for current in models:
            for name, field in current.model_fields.items():
                if part in {name, field.alias}:
                    reached.extend(_models_in(field.annotation))
        if reached:
            models = reached
    keys = {field.alias or name for current in models for name, field in current.model_fields.items()}
    return frozenset(keys) if keys else known_keys(model)


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models an annotation names, looking inside unions, lists, mappings and ``Annotated``."""
    found: list[type[BaseModel]] = []
    pending: list[object] = [annotation]
    while pending:
        kind = pending.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found.append(kind)
        pending.extend(typing.get_args(kind))
    return found


def _suggestion(key: str, keys: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(keys), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
