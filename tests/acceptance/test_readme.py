"""The README's user guide keeps up with the file schemas, the plan's JSON and the examples."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from trimtab.loaders.market import MarketFile
from trimtab.loaders.portfolio import PortfolioFile
from trimtab.policy.config import Policy

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Names written in backticks, split into path parts: `[trigger.adaptive]` gives trigger and adaptive,
# `classes[].lower` gives classes and lower.
DOCUMENTED = {part for token in re.findall(r"`([^`\n]+)`", README) for part in re.split(r"[^\w]+", token) if part}


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    """Every model reachable from ``model`` through its fields' types."""
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        stack: list[object] = [field.annotation]
        while stack:
            kind = stack.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                _models(kind, seen)
            stack.extend(typing.get_args(kind))


def _keys(root: type[BaseModel]) -> set[str]:
    models: set[type[BaseModel]] = set()
    _models(root, models)
    return {field.alias or name for model in models for name, field in model.model_fields.items()}


def test_the_readme_starts_with_the_description_and_the_two_commands() -> None:
    head = README.split("## ", 1)[0]
    assert "keeps a crypto portfolio on its target allocation" in head
    assert "make demo" in head
    assert "make test" in head


def test_every_key_of_every_input_file_is_explained() -> None:
    keys = _keys(Policy) | _keys(PortfolioFile) | _keys(MarketFile)
    assert {"class", "hedge_leverage", "reference_vol", "index_hedge", "contract_size", "iv"} <= keys
    missing = sorted(keys - DOCUMENTED)
    assert missing == []


def test_every_field_of_the_plan_json_is_explained() -> None:
    fields = [
        "base_currency", "equity", "triggered", "trigger_reason", "classes", "trades", "post_trade", "costs",
        "margin", "notes", "net_exposure", "breached", "goal", "cash", "symbol", "instrument", "side", "amount",
        "notional", "venue", "price", "reduce_only", "reason", "fees", "slippage", "funding_per_day", "initial",
        "free_collateral", "ok", "required", "maintenance", "gross_leverage",
    ]  # fmt: skip
    missing = [f for f in fields if f not in DOCUMENTED]
    assert missing == []


def test_every_example_file_is_listed_and_every_linked_file_exists() -> None:
    for path in (ROOT / "examples").glob("*.*"):
        assert f"`{path.name}`" in README or f"]({path.relative_to(ROOT)})" in README, path.name
    for link in re.findall(r"\]\(((?:examples|docs)/[^)#]+)\)", README):
        assert (ROOT / link).exists(), link
