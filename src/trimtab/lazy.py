"""Package namespaces that import their modules on first use (PEP 562).

``from trimtab.domain import Plan`` keeps working, but importing one module of a package (the policy's
``trimtab.domain.classes``) no longer imports all its siblings: a command pays only for the modules it
uses. Each package lists its names by module and imports them under ``TYPE_CHECKING`` for type checkers::

    __getattr__, __dir__ = lazy_exports(__name__, {"trimtab.domain.plan": ("Plan", "Trade")})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, modules: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` for the names ``modules`` export.

    Parameters
    ----------
    package:
        The package's ``__name__``.
    modules:
        For each module, the names the package re-exports from it.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)``: the first imports a name's module when the name is first read and
        keeps the value in the package's namespace; an unknown name raises :class:`AttributeError`.
    """
    owner = {name: module for module, names in modules.items() for name in names}

    def attribute(name: str) -> Any:
        module = owner.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def names() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(owner))

    return attribute, names
