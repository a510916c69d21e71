"""A mistyped key is answered with a near miss from its own table, never from another one."""

from __future__ import annotations

import pytest

from trimtab.errors import BadInputError
from trimtab.loaders.validation import keys_at, validate
from trimtab.policy.config import Policy

POLICY = {
    "base_currency": "USDT",
    "class": [
        {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05},
        {"name": "STABLE", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
    ],
    "rebalance": {"scope": "all"},
}


def _message(document: dict[str, object]) -> str:
    with pytest.raises(BadInputError) as caught:
        validate(Policy, document, "policy.toml")
    return str(caught.value)


def test_a_key_of_another_table_is_not_suggested() -> None:
    # 'foo' is as close to strategy.cppi's 'floor' as difflib's cutoff allows; it is no hint in [rebalance].
    message = _message({**POLICY, "rebalance": {"scope": "all", "foo": 1}})
    assert message == "policy.toml: rebalance.foo: unknown key"


def test_a_near_miss_in_the_same_table_is_suggested() -> None:
    message = _message({**POLICY, "rebalance": {"scop": "all"}})
    assert message == "policy.toml: rebalance.scop: unknown key (did you mean 'scope'?)"


def test_a_class_row_gets_the_class_keys() -> None:
    classes = [dict(POLICY["class"][0], hedg="BTC/USDT:USDT"), POLICY["class"][1]]  # type: ignore[index]
    message = _message({**POLICY, "class": classes})
    assert message == "policy.toml: class[0].hedg: unknown key (did you mean 'hedge'?)"


def test_keys_at_walks_lists_and_union_tags() -> None:
    assert "scope" in keys_at(Policy, ("rebalance",))
    assert "floor" not in keys_at(Policy, ("rebalance",))
    assert "hedge" in keys_at(Policy, ("class", 3))
    assert "floor" in keys_at(Policy, ("strategy", "cppi"))
