"""Every TOML example in docs/strategies.md is a valid policy fragment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from trimtab.policy.config import Policy
from trimtab.policy.targets import build_target_model
from trimtab.policy.triggers import build_trigger

DOC = Path(__file__).resolve().parents[3] / "docs" / "strategies.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_doc_has_a_base_and_examples() -> None:
    assert len(BLOCKS) >= 10
    assert "[[class]]" in BLOCKS[0]


@pytest.mark.parametrize("block", BLOCKS[1:], ids=lambda b: b.splitlines()[1].strip() if "\n" in b else b)
def test_each_example_validates_on_the_base_policy(block: str) -> None:
    document: dict[str, Any] = tomllib.loads(BLOCKS[0])
    document.update(tomllib.loads(block))
    policy = Policy.model_validate(document)
    build_trigger(policy.trigger)
    build_target_model(policy)
