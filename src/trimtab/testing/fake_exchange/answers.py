"""Shared pieces of the fake's Binance answers: handler types and number formatting."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trimtab.testing.fake_exchange.engine import Engine, ExchangeRejectError

Params = Mapping[str, str]
Handler = Callable[[Engine, Params], Any]


def num(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".") if value else "0"


def decimals(step: str) -> int:
    return len(step.split(".")[1].rstrip("0")) if "." in step else 0


def flag(params: Params, key: str) -> bool:
    return params.get(key, "false").lower() == "true"


def required(params: Params, key: str) -> str:
    value = params.get(key)
    if value is None:
        raise ExchangeRejectError(400, -1102, f"Mandatory parameter '{key}' was not sent.")
    return value


def order_id(params: Params) -> int | None:
    raw = params.get("orderId")
    return int(raw) if raw is not None else None
