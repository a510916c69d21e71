"""No secret leaves the process: API keys in the environment and the access token never appear in answers."""

from __future__ import annotations

from typing import Any

import pytest

CANARY_KEY = "CANARYKEY-5f1d9c-never-show"
CANARY_SECRET = "CANARYSECRET-77ab02-never-show"
READS = [
    "/",
    "/fragments/overview",
    "/reports",
    "/login",
    "/metrics",
    "/openapi.json",
    "/api/health",
    "/api/state",
    "/api/valuation",
    "/api/plan",
    "/api/plans",
    "/api/orders",
    "/api/fills",
    "/api/decisions",
    "/api/performance",
    "/api/reports",
]


def test_no_answer_carries_an_api_key_or_the_token(served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIMTAB_API_KEY", CANARY_KEY)
    monkeypatch.setenv("TRIMTAB_API_SECRET", CANARY_SECRET)
    monkeypatch.setenv("TRIMTAB_TELEGRAM_TOKEN", CANARY_SECRET)
    headers = {"X-Trimtab-Token": served.token}
    answers = [served.client.get(path, headers=headers) for path in READS]
    answers += [
        served.client.post("/api/actions/pause", headers=headers),
        served.client.post("/api/actions/kill", headers={"X-Trimtab-Token": "wrong"}),
        served.client.post("/api/actions/kill", headers=headers | {"Origin": "http://evil.example"}),
        served.client.post("/api/plans/p-sample-0004/approve", headers=headers),
    ]
    for response in answers:
        text = response.text + "".join(f"{k}: {v}" for k, v in response.headers.items())
        for secret in (CANARY_KEY, CANARY_SECRET, served.token):
            assert secret not in text, response.request.url


def test_the_token_is_not_in_the_journal(served: Any) -> None:
    path = served.store.sqlite_path
    assert path is not None
    assert served.token.encode() not in path.read_bytes()
