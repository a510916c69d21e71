"""Fixtures of the app-level tests: a folder to run ``trimtab run`` in against the local fakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from trimtab.testing.live_run import LiveRunFolder


@pytest.fixture
def live(tmp_path: Path) -> LiveRunFolder:
    """The test's folder, set up to hold a run's files and journal (the fake Binance's canary keys)."""
    return LiveRunFolder(tmp_path)
