"""Target models by ``[strategy] kind``: each model's file registers the builder of its model here.

Nothing else in the codebase switches on a strategy's kind: the planner, the session and every clock ask
:func:`build_target_model` for the model and the model for what it needs.
"""

from __future__ import annotations

from collections.abc import Callable

from trimtab.policy.config import Policy
from trimtab.policy.targets.base import TargetModel

Builder = Callable[[Policy], TargetModel]
_BUILDERS: dict[str, Builder] = {}


def register_target_model(kind: str) -> Callable[[Builder], Builder]:
    """Register the builder of the target model for ``[strategy] kind = "<kind>"`` (used as a decorator).

    Raises
    ------
    ValueError
        If another builder already has that kind.
    """

    def register(builder: Builder) -> Builder:
        if kind in _BUILDERS and _BUILDERS[kind] is not builder:
            raise ValueError(f"a target model is already registered for {kind!r}")
        _BUILDERS[kind] = builder
        return builder

    return register


def build_target_model(policy: Policy) -> TargetModel:
    """The target model that the policy's ``[strategy]`` describes.

    Raises
    ------
    KeyError
        If no model is registered for the strategy's kind.
    """
    kind = policy.strategy.kind
    if kind not in _BUILDERS:
        raise KeyError(f"no target model is registered for strategy kind {kind!r}")
    return _BUILDERS[kind](policy)


def registered_kinds() -> tuple[str, ...]:
    """The strategy kinds with a registered model."""
    return tuple(sorted(_BUILDERS))
