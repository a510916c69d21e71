"""Packages that import their modules on first use still export what they did, as the same objects."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

LAZY_PACKAGES = [
    "trimtab.domain",
    "trimtab.loaders",
    "trimtab.planner",
    "trimtab.session",
    "trimtab.venues",
    "trimtab.venues.simulation",
    "trimtab.web",
]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_export_is_the_object_its_module_defines_even_after_every_module_loaded(name: str) -> None:
    package = importlib.import_module(name)
    for module in pkgutil.iter_modules(package.__path__, f"{name}."):
        importlib.import_module(module.name)
    for export in package.__all__:
        value = getattr(package, export)
        # A submodule of the same name would replace a lazily exported function once it is imported.
        assert not isinstance(value, types.ModuleType), f"{name}.{export} is a module"
        assert export in dir(package)
    with pytest.raises(AttributeError):
        _ = package.no_such_name


def test_importing_one_module_of_a_package_leaves_its_siblings_unloaded() -> None:
    script = (
        "import sys; import trimtab.domain.classes; "
        "print(sorted(m for m in sys.modules if m.startswith('trimtab.domain.')))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['trimtab.domain.classes']"


def test_the_dashboards_controls_load_without_the_web_framework() -> None:
    # trimtab pause, status and the Telegram commands read and act on the journal; only serve needs FastAPI.
    script = "import sys; import trimtab.web.controls, trimtab.web.queries; print('fastapi' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
