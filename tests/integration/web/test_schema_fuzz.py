"""Schemathesis against the OpenAPI schema, in process (ASGI): no server errors, answers match the schema."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from trimtab.storage import open_store
from trimtab.web import WebSettings, create_app
from trimtab.web.sample import seed_sample_journal
from trimtab.web.security import load_or_create_token

# The schema is loaded when the module is collected, so its journal lives in a temporary folder made here,
# removed at exit even when no test of this module runs.
FOLDER = Path(tempfile.mkdtemp(prefix="trimtab-schema-"))
atexit.register(shutil.rmtree, FOLDER, True)
STORE = open_store(f"sqlite:///{FOLDER / 'trimtab-paper.db'}")
seed_sample_journal(STORE)
TOKEN = load_or_create_token(STORE)
(FOLDER / "reports").mkdir()
(FOLDER / "reports" / "run.html").write_text("<html><body>report</body></html>", encoding="utf-8")
APP = create_app(
    STORE, WebSettings(token_sha256=TOKEN.token_sha256, reports=FOLDER / "reports", extra_hosts=("testserver",))
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_every_generated_request_without_a_server_error(case: Any) -> None:
    assert TOKEN.new_token is not None
    # Every answer must be documented and match its schema, and no request may cause a server error. The
    # negative-data check is left out: in a query string every value is text, so "kind=2.8e16" is a
    # valid kind even though the generator meant it as a number.
    case.call_and_validate(headers={"X-Trimtab-Token": TOKEN.new_token}, checks=CHECKS)
