"""The README's user guide keeps up with the file schemas, the plan's JSON and the examples."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

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


def test_the_readme_json_example_is_what_plan_prints(tmp_path: Path) -> None:
    block = README.split("The first worked example below gives", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    shown = json.loads(block)
    (tmp_path / "portfolio.toml").write_text(
        'base_currency = "USDT"\n[[spot]]\nasset = "BTC"\namount = 1.0\n[[spot]]\nasset = "USDT"\namount = 42000.0\n',
        encoding="utf-8",
    )
    (tmp_path / "policy.toml").write_text(
        'base_currency = "USDT"\n'
        '[[class]]\nname = "BTC"\nassets = ["BTC"]\ntarget = 0.5\nband = 0.05\n'
        '[[class]]\nname = "STABLE"\nassets = ["USDT"]\ntarget = 0.5\nband = 0.05\ncash = true\n',
        encoding="utf-8",
    )
    (tmp_path / "market.json").write_text(
        '{"timestamp": "2026-11-21T00:00:00Z", "prices": {"BTC": 58000.0, "USDT": 1.0}}', encoding="utf-8"
    )
    command = [sys.executable, "-m", "trimtab", "plan", "--format", "json"]
    for name in ("portfolio", "policy", "market"):
        suffix = ".json" if name == "market" else ".toml"
        command += [f"--{name}", str(tmp_path / f"{name}{suffix}")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    # The README leaves out the STABLE class; everything it shows must be what `plan` prints.
    printed["classes"] = [c for c in printed["classes"] if c["name"] != "STABLE"]
    assert _approx_equal(shown, printed), json.dumps(printed, indent=1)


def _approx_equal(shown: Any, printed: Any) -> bool:
    if isinstance(shown, dict):
        return (
            isinstance(printed, dict)
            and shown.keys() == printed.keys()
            and all(_approx_equal(shown[k], printed[k]) for k in shown)
        )
    if isinstance(shown, list):
        return len(shown) == len(printed) and all(_approx_equal(a, b) for a, b in zip(shown, printed, strict=True))
    if isinstance(shown, float) and not isinstance(shown, bool):
        return math.isclose(shown, printed, rel_tol=1e-12, abs_tol=1e-12)
    return bool(shown == printed)
