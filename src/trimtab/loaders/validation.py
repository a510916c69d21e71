"""Turning pydantic's validation errors into one :class:`BadInputError` that names file and field."""

from __future__ import annotations

from collections.abc import Sequence
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
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "too_short": "must not be empty",
    "literal_error": "is not one of the allowed values",
    "union_tag_invalid": "is not a known kind",
    "union_tag_not_found": "needs a 'kind'",
}


def field_path(loc: Sequence[int | str]) -> str:
    """Render a pydantic location as ``class[2].target`` (list positions count from 0)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if text in {"function-after", "function-before", "function-wrap"} or text.startswith("tagged-"):
                continue
            if out and not _plain(text):
                out += f'."{text}"' if "." in text or "/" in text or ":" in text else f".{text}"
            else:
                out += f".{text}" if out else text
    return out


def _plain(text: str) -> bool:
    return text.replace("_", "").replace("-", "").isalnum()


def describe(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind in _MESSAGES:
        message = _MESSAGES[kind]
        if kind == "literal_error":
            expected = (error.get("ctx") or {}).get("expected")
            if expected:
                message = f"must be one of {expected}"
        return message
    ctx = error.get("ctx") or {}
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        words = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }
        bound = next(iter(ctx.values()), "?")
        return f"must be {words[kind]} {bound}"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    message = str(error.get("msg", "is not valid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def validate(model: type[ModelT], data: Any, source: str) -> ModelT:
    """Validate ``data`` against ``model``; raise one BadInputError naming ``source`` and the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadInputError(source, field_path(first["loc"]), describe(dict(first))) from None
