"""``POST /api/flows``: a deposit or withdrawal journaled from the dashboard's API, token in a header."""

from __future__ import annotations

from typing import Any

from trimtab.storage.flows import flows_after


def test_a_flow_needs_the_token_and_is_journaled_once_per_reference(served: Any) -> None:
    client, body = served.client, {"amount": 5000.0, "reference": "wire-42", "note": "monthly saving"}
    assert client.post("/api/flows", json=body).status_code == 401
    assert client.post("/api/flows", json=body, headers={"X-Trimtab-Token": "guess"}).status_code == 403
    assert flows_after(served.store, 0) == []
    auth = {"X-Trimtab-Token": served.token}
    first = client.post("/api/flows", json=body, headers=auth)
    assert first.status_code == 200
    flow = first.json()
    assert (flow["kind"], flow["amount"], flow["asset"], flow["new"]) == ("deposit", 5000.0, "USDT", True)
    assert flow["source"] == "dashboard" and flow["note"] == "monthly saving"
    retried = client.post("/api/flows", json=body, headers=auth).json()
    assert retried["new"] is False and retried["id"] == flow["id"]
    out = client.post("/api/flows", json={"amount": -1200.5}, headers={"Authorization": f"Bearer {served.token}"})
    assert out.json()["kind"] == "withdrawal"
    assert [(f.amount, f.source) for f in flows_after(served.store, 0)] == [
        (5000.0, "dashboard"),
        (-1200.5, "dashboard"),
    ]
    reasons = [d["reason"] for d in client.get("/api/decisions", params={"kind": ["cash_flow"]}).json()]
    assert len(reasons) == 2 and "deposit of 5000.00 USDT recorded from the dashboard" in reasons[0]


def test_a_zero_or_missing_amount_is_refused_and_nothing_is_journaled(served: Any) -> None:
    auth = {"X-Trimtab-Token": served.token}
    assert served.client.post("/api/flows", json={"amount": 0.0}, headers=auth).status_code == 422
    assert served.client.post("/api/flows", json={}, headers=auth).status_code == 422
    assert served.client.post("/api/flows", json={"amount": 1.0, "note": "x" * 501}, headers=auth).status_code == 422
    assert flows_after(served.store, 0) == []
