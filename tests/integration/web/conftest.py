"""A seeded journal, its token and a test client of the dashboard on 127.0.0.1."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from trimtab.storage import Store, open_store
from trimtab.web import WebSettings, create_app
from trimtab.web.sample import seed_sample_journal
from trimtab.web.security import load_or_create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@dataclass
class Served:
    store: Store
    token: str
    client: TestClient
    reports: Path


def client_for(store: Store) -> tuple[TestClient, str]:
    """A loopback client of the dashboard on ``store`` and its new token."""
    info = load_or_create_token(store, rotate=True)
    assert info.new_token is not None
    app = create_app(store, WebSettings(token_sha256=info.token_sha256))
    return TestClient(app, base_url="http://127.0.0.1:8765"), info.new_token


def serve(tmp_path: Path, **settings: object) -> Served:
    store = open_store(f"sqlite:///{tmp_path / 'trimtab-paper.db'}")
    seed_sample_journal(store)
    info = load_or_create_token(store)
    assert info.new_token is not None
    reports = tmp_path / "reports"
    reports.mkdir(exist_ok=True)
    app = create_app(store, WebSettings(token_sha256=info.token_sha256, reports=reports, **settings))  # type: ignore[arg-type]
    return Served(store, info.new_token, TestClient(app, base_url="http://127.0.0.1:8765"), reports)


@pytest.fixture
def dashboard() -> Callable[[Store], tuple[TestClient, str]]:
    """Makes a loopback client (and its token) for a journal the test opened."""
    return client_for


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    result = serve(tmp_path)
    yield result
    result.store.close()


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Served]:
    result = serve(tmp_path, host="0.0.0.0", allow_remote=True)
    yield result
    result.store.close()
