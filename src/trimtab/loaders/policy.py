"""The policy file."""

from __future__ import annotations

from pathlib import Path

from trimtab.domain.instruments import parse_symbol
from trimtab.errors import BadInputError
from trimtab.loaders.files import read_document
from trimtab.loaders.validation import check_asset_code, validate
from trimtab.policy.config import DeltaTargetStrategy, Policy


def load_policy(path: Path | str) -> Policy:
    """Read and validate a policy file.

    Returns
    -------
    Policy
        The validated, frozen policy.

    Raises
    ------
    BadInputError
        Naming the file and the field of the first problem.
    """
    source = Path(path).name
    document = read_document(path)
    if "classes" in document:
        # The schema's Python name would be accepted by pydantic; the file format has only [[class]].
        raise BadInputError(source, "classes", "unknown key (asset classes are [[class]] tables)")
    policy = validate(Policy, document, source)
    _check_sense(policy, source)
    return policy


def _check_sense(policy: Policy, source: str) -> None:
    """Values the schema admits but no policy can reach, and names that would garble messages."""
    problem = check_asset_code(policy.base_currency)
    if problem is not None:
        raise BadInputError(source, "base_currency", problem)
    for index, cls in enumerate(policy.classes):
        if not cls.name.isprintable() or cls.name != cls.name.strip():
            raise BadInputError(
                source, f"class[{index}].name", f"{cls.name!r} must be printable, without spaces around"
            )
        for position, asset in enumerate(cls.assets):
            problem = check_asset_code(asset)
            if problem is not None:
                raise BadInputError(source, f"class[{index}].assets[{position}]", problem)
        if cls.hedge is not None and cls.hedge != cls.hedge.strip():
            raise BadInputError(source, f"class[{index}].hedge", "a symbol must not have spaces around it")
    _check_hedges(policy, source)
    strategy = policy.strategy
    if isinstance(strategy, DeltaTargetStrategy):
        limit = policy.rebalance.max_leverage
        for name, delta in strategy.deltas.items():
            if abs(delta) > limit:
                raise BadInputError(
                    source,
                    f"strategy.deltas.{name}",
                    f"a net delta of {delta:g} x equity exceeds rebalance.max_leverage ({limit:g})",
                )


def _check_hedges(policy: Policy, source: str) -> None:
    """A class's hedge must count toward that class, or trading it would move another class.

    The valuation counts a derivative toward the class listing its base asset, else toward the class whose
    ``hedge`` it is; so a hedge's base asset must be in its own class or in none, and two classes cannot
    share one hedge.
    """
    owner_of_asset = {asset: c.name for c in policy.classes for asset in c.assets}
    hedged_by: dict[str, str] = {}
    for index, cls in enumerate(policy.classes):
        if cls.hedge is None:
            continue
        where = f"class[{index}].hedge"
        base = parse_symbol(cls.hedge).base
        owner = owner_of_asset.get(base)
        if owner is not None and owner != cls.name:
            raise BadInputError(
                source, where, f"{cls.hedge} counts toward class {owner!r} (it lists {base}), not {cls.name!r}"
            )
        if cls.hedge in hedged_by:
            raise BadInputError(source, where, f"{cls.hedge} is already the hedge of class {hedged_by[cls.hedge]!r}")
        hedged_by[cls.hedge] = cls.name
