"""Fuzzing the file loaders: whatever the documents hold, loading returns or raises BadInputError.

Two sources of documents: random ones (random nesting, types, keys, unicode, huge and non-finite
numbers) and the bundled examples with one random part replaced, removed or added, which gets past the
first checks and into the deeper ones. Each document is written as TOML (by a small writer below) or
JSON, chosen at random, so both parsers are exercised. Whatever passes validation must then plan into
finite JSON: `trimtab plan` exits 2 on bad input, never 1.
"""

from __future__ import annotations

import json
import math
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trimtab.cli.plan import plan_json
from trimtab.errors import BadInputError
from trimtab.loaders import load_plan_inputs
from trimtab.planner import make_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KNOWN_KEYS = [
    "base_currency", "spot", "derivatives", "asset", "amount", "venue", "symbol", "entry_price", "leverage",
    "timestamp", "prices", "mark", "funding_rate", "funding_interval_hours", "iv", "volatility", "markets",
    "amount_step", "min_amount", "min_notional", "contract_size", "class", "name", "assets", "target", "band",
    "band_relative", "weights", "hedge", "cash", "trigger", "kind", "every", "adaptive", "of", "rebalance",
    "scope", "to", "instrument", "costs", "taker_fee", "strategy", "BTC", "USDT", "BTC/USDT:USDT",
]  # fmt: skip

# Text that UTF-8 can encode (no lone surrogates).
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
KEYS = st.one_of(st.sampled_from(KNOWN_KEYS), TEXT)
SCALARS = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 0.5, 1.0, 58000.0, float("nan"), float("inf")]),
    TEXT,
    st.sampled_from(["threshold", "calendar", "7d", "spot", "perp", "BTC/USDT:USDT-261225-70000-C", "2026-11-21"]),
    st.datetimes(timezones=st.just(UTC)),
)
DOCUMENTS = st.dictionaries(
    KEYS,
    st.recursive(
        SCALARS,
        lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)),
        max_leaves=20,
    ),
    max_size=6,
)


def toml_text(document: dict[str, Any]) -> str:
    """A TOML document with one ``key = value`` line per top-level key, tables written inline."""
    return "".join(f"{_toml_key(key)} = {_toml_value(value)}\n" for key, value in document.items())


def _toml_key(key: str) -> str:
    return _toml_string(key)


def _toml_string(text: str) -> str:
    # JSON's escapes are TOML's, except that TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, default=lambda value: value.isoformat(), ensure_ascii=False)


def _write(path_stem: Path, document: dict[str, Any], as_toml: bool) -> Path:
    path = path_stem.with_suffix(".toml" if as_toml else ".json")
    text = toml_text(document) if as_toml else json_text(document)
    path.write_text(text, encoding="utf-8")
    return path


def _example(name: str) -> dict[str, Any]:
    path = EXAMPLES / name
    text = path.read_text(encoding="utf-8")
    document: dict[str, Any] = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    return document


def _mutate(data: st.DataObject, document: dict[str, Any]) -> dict[str, Any]:
    """Replace, remove or add one part somewhere in a copy of ``document``."""
    copy: dict[str, Any] = json.loads(json_text(document))
    node: Any = copy
    while True:
        children = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
        if not children:
            break
        child = data.draw(st.sampled_from(children))
        inner = node[child]
        if isinstance(inner, dict | list) and data.draw(st.booleans()):
            node = inner
            continue
        action = data.draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            node[child] = data.draw(st.one_of(SCALARS, DOCUMENTS))
        elif action == "remove":
            del node[child]
        elif isinstance(node, dict):
            node[data.draw(KEYS)] = data.draw(SCALARS)
        else:
            node.append(data.draw(SCALARS))
        break
    return copy


NUMBERS = st.one_of(
    st.floats(min_value=-1e6, max_value=1e9, allow_nan=False),
    st.sampled_from([0.0, 1e-15, 1e-9, 0.5, 1.0, 3.0, 1e12, 1e15]),
)


def _mutate_numbers(data: st.DataObject, document: dict[str, Any]) -> dict[str, Any]:
    """Replace one to three numbers of a copy of ``document`` by other numbers (often still valid)."""
    copy: dict[str, Any] = json.loads(json_text(document))
    leaves: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, [*path, index])
        elif isinstance(node, int | float) and not isinstance(node, bool):
            leaves.append(path)

    walk(copy, [])
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(leaves))
        node: Any = copy
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = data.draw(NUMBERS)
    return copy


PAIRINGS = [
    ("portfolio.toml", "policy.toml", "market.json"),
    ("portfolio.toml", "policy-perp-hedge.toml", "market.json"),
    ("portfolio.toml", "policy-adaptive.toml", "market.json"),
    ("portfolio.toml", "policy-hybrid.toml", "market.json"),
    ("portfolio.toml", "policy-core-satellite.toml", "market.json"),
    ("portfolio.toml", "policy-cppi.toml", "market.json"),
    ("portfolio-beta-neutral.toml", "policy-beta-neutral.toml", "market.json"),
    ("portfolio-options.toml", "policy-delta-target.toml", "market-options.json"),
]


def _load_or_bad_input(folder: Path, portfolio: dict[str, Any], policy: dict[str, Any], market: dict[str, Any],
                       suffixes: tuple[bool, bool, bool]) -> None:  # fmt: skip
    paths = (
        _write(folder / "portfolio", portfolio, suffixes[0]),
        _write(folder / "policy", policy, suffixes[1]),
        _write(folder / "market", market, suffixes[2]),
    )
    try:
        load_plan_inputs(*paths)
    except BadInputError as exc:
        message = str(exc)
        assert len(message.splitlines()) == 1, message
        assert message.split(":", 1)[0] in {p.name for p in paths}
    finally:
        for path in paths:
            path.unlink()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


SUFFIXES = st.tuples(st.booleans(), st.booleans(), st.booleans())


@FUZZ
@given(portfolio=DOCUMENTS, policy=DOCUMENTS, market=DOCUMENTS, suffixes=SUFFIXES)
def test_random_documents_load_or_raise_bad_input(
    folder: Path,
    portfolio: dict[str, Any],
    policy: dict[str, Any],
    market: dict[str, Any],
    suffixes: tuple[bool, bool, bool],
) -> None:
    _load_or_bad_input(folder, portfolio, policy, market, suffixes)


@FUZZ
@given(data=st.data(), which=st.sampled_from([0, 1, 2]), suffixes=SUFFIXES)
def test_examples_with_one_part_changed_load_or_raise_bad_input(
    folder: Path, data: st.DataObject, which: int, suffixes: tuple[bool, bool, bool]
) -> None:
    documents = [_example("portfolio.toml"), _example("policy.toml"), _example("market.json")]
    documents[which] = _mutate(data, documents[which])
    _load_or_bad_input(folder, *documents, suffixes)


@FUZZ
@given(data=st.data(), pairing=st.sampled_from(PAIRINGS), which=st.sampled_from([0, 1, 2]), numbers=st.booleans())
def test_whatever_loads_also_plans_into_finite_json(
    folder: Path, data: st.DataObject, pairing: tuple[str, str, str], which: int, numbers: bool
) -> None:
    # Input that passes validation must never make `trimtab plan` fail with an internal error.
    documents = [_example(name) for name in pairing]
    documents[which] = _mutate_numbers(data, documents[which]) if numbers else _mutate(data, documents[which])
    paths = [_write(folder / stem, document, False) for stem, document in zip(STEMS, documents, strict=True)]
    try:
        inputs = load_plan_inputs(*paths)
    except BadInputError:
        return
    finally:
        for path in paths:
            path.unlink()
    plan = make_plan(inputs.portfolio, inputs.market, inputs.policy)
    document = json.loads(plan_json(plan))
    assert document["equity"] > 0
    assert set(document["post_trade"]) == {c.name for c in inputs.policy.classes}


STEMS = ("portfolio", "policy", "market")


def test_the_toml_writer_round_trips() -> None:
    document = {
        "a b": {"x": [1, 2.5, "s\x7f\u00e9\n"], "y": {"z": True}},
        "t": datetime(2026, 11, 21, tzinfo=UTC),
        "n": float("-inf"),
        "big": 10**30,
    }
    back = tomllib.loads(toml_text(document))
    assert back["a b"] == {"x": [1, 2.5, "s\x7f\u00e9\n"], "y": {"z": True}}
    assert back["t"] == datetime(2026, 11, 21, tzinfo=UTC)
    assert back["n"] == float("-inf")
    assert back["big"] == 10**30


def test_the_unchanged_examples_load(folder: Path) -> None:
    for suffixes in ((True, True, True), (False, False, False)):
        paths = (
            _write(folder / "portfolio", _example("portfolio.toml"), suffixes[0]),
            _write(folder / "policy", _example("policy.toml"), suffixes[1]),
            _write(folder / "market", _example("market.json"), suffixes[2]),
        )
        inputs = load_plan_inputs(*paths)
        assert inputs.market.prices["BTC"] == 58000.0
        assert len(inputs.policy.classes) == 4
