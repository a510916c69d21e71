"""The browser tests' shared fixture: Playwright's sync API, or a skip saying what is missing."""

from __future__ import annotations

from typing import Any

import pytest

from .test_dashboard_e2e import chromium_path


@pytest.fixture
def sync_api() -> Any:
    if chromium_path() is None:
        pytest.skip("no Chromium found (install Debian's 'chromium' package, or run 'make browser')")
    return pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
