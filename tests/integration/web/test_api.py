"""Every endpoint of the API and the pages, on a seeded journal."""

from __future__ import annotations

from typing import Any

import pytest

from trimtab.storage.state import StateStore
from trimtab.web.controls import PAUSED


def auth(served: Any) -> dict[str, str]:
    return {"X-Trimtab-Token": served.token}


def test_health(served: Any) -> None:
    assert served.client.get("/api/health").json()["status"] == "ok"


def test_valuation(served: Any) -> None:
    body = served.client.get("/api/valuation").json()
    assert body["equity"] == 102_380.0
    assert [c["name"] for c in body["classes"]] == ["BTC", "ETH", "STABLE"]
    numbers = [[c["weight"], c["lower"], c["upper"]] for c in body["classes"]]
    assert numbers == [pytest.approx(row) for row in ([0.51, 0.45, 0.55], [0.30, 0.25, 0.35], [0.19, 0.16, 0.24])]
    assert body["positions"][0]["liquidation_distance"] == 0.495
    assert body["leverage"]["gross"] == 1.08
    assert body["margin"]["free_collateral"] == 18_900.0


def test_plan_and_plans(served: Any) -> None:
    assert served.client.get("/api/plan").json()["status"] == "pending"
    plans = served.client.get("/api/plans", params={"limit": 1}).json()
    assert [plan["id"] for plan in plans] == ["p-sample-0004"]
    assert len(served.client.get("/api/plans").json()) == 2


def test_orders_fills_decisions(served: Any) -> None:
    orders = served.client.get("/api/orders").json()
    assert orders[0]["client_order_id"] == "tt-sample-0003-0"
    assert (orders[0]["filled"], orders[0]["average_price"], orders[0]["status"]) == (0.2, 40_950.0, "filled")
    fills = served.client.get("/api/fills").json()
    assert (fills[0]["price"], fills[0]["fee"]) == (40_950.0, 8.19)
    decisions = served.client.get("/api/decisions", params={"kind": ["trigger"]}).json()
    assert [d["reason"] for d in decisions] == ["BTC at 58.00 % is outside 45.00–55.00 %"]
    assert served.client.get("/api/decisions", params={"limit": 0}).status_code == 422


def test_performance(served: Any) -> None:
    body = served.client.get("/api/performance").json()
    assert body["costs"] == {
        "fees": 8.19,
        "slippage": pytest.approx(2.0),
        "funding": 1.25,
        "total": pytest.approx(11.44),
    }
    assert len(body["equity_curve"]) == 4
    assert body["drift"]["BTC"][2]["drift"] == pytest.approx(0.08)


def test_state_and_every_action_with_the_token(served: Any) -> None:
    client = served.client
    assert client.get("/api/state").json()["mode"] == "trading"
    assert (
        client.post("/api/actions/pause", headers=auth(served), json={"reason": "maintenance"}).json()["mode"]
        == "paused"
    )
    assert StateStore(served.store).get(PAUSED)["reason"] == "maintenance"
    assert client.post("/api/actions/resume", headers=auth(served)).json()["mode"] == "trading"
    assert client.post("/api/actions/kill", headers=auth(served)).json()["halted"] is True
    assert StateStore(served.store).halted()[0] is True
    assert client.post("/api/actions/resume", headers=auth(served)).status_code == 409  # a kill needs release
    assert client.post("/api/actions/release", headers=auth(served)).json()["mode"] == "trading"
    bearer = {"Authorization": f"Bearer {served.token}"}
    assert client.post("/api/plans/p-sample-0004/approve", headers=bearer).json() == {
        "id": "p-sample-0004",
        "status": "approved",
    }
    assert client.post("/api/plans/p-sample-0004/reject", headers=bearer).status_code == 409
    assert client.post("/api/plans/nope/reject", headers=bearer).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/api/actions/pause", "/api/actions/resume", "/api/actions/kill", "/api/actions/release",
     "/api/plans/p-sample-0004/approve", "/api/plans/p-sample-0004/reject"],
)  # fmt: skip
def test_actions_without_a_token_are_401_and_with_a_wrong_one_403(served: Any, path: str) -> None:
    assert served.client.post(path).status_code == 401
    assert served.client.post(path, headers={"X-Trimtab-Token": "guess"}).status_code == 403
    assert served.client.post(path, headers={"X-Trimtab-Token": served.token[:-1]}).status_code == 403
    # Nothing changed.
    assert served.client.get("/api/state").json()["mode"] == "trading"
    assert served.client.get("/api/plan").json()["status"] == "pending"


def test_a_cookie_alone_cannot_act(served: Any) -> None:
    served.client.cookies.set("trimtab_token", served.token)
    assert served.client.post("/api/actions/kill").status_code == 401
    assert StateStore(served.store).halted()[0] is False


def test_a_cross_site_request_is_refused_even_with_the_token(served: Any) -> None:
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        response = served.client.post("/api/actions/kill", headers=auth(served) | headers)
        assert response.status_code == 403
    same = served.client.post("/api/actions/pause", headers=auth(served) | {"Origin": "http://127.0.0.1:8765"})
    assert same.status_code == 200


def test_an_unknown_host_header_is_refused(served: Any) -> None:
    assert served.client.get("/api/valuation", headers={"Host": "evil.example"}).status_code == 400
    for host in ("localhost:8765", "[::1]:8765", "127.0.0.1"):
        assert served.client.get("/api/valuation", headers={"Host": host}).status_code == 200, host
    assert served.client.get("/", headers={"Host": "127.0.0.1.evil.example"}).status_code == 400


def test_remote_mode_needs_the_token_for_reads_too(remote: Any) -> None:
    client = remote.client
    for path in ("/api/valuation", "/api/orders", "/metrics", "/fragments/overview", "/api/reports"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"X-Trimtab-Token": remote.token}).status_code == 200, path
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/login").status_code == 200
    assert client.get("/api/health").status_code == 200
    assert client.post("/api/session", json={"token": "wrong"}).status_code == 403
    login = client.post("/api/session", json={"token": remote.token})
    assert login.status_code == 204
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/").status_code == 200  # the cookie now opens the pages
    assert client.post("/api/actions/kill").status_code == 401  # but never the actions


def test_metrics(served: Any) -> None:
    response = served.client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "trimtab_equity 102380.0" in response.text


def test_the_overview_page_draws_each_class_with_its_numbers(served: Any) -> None:
    page = served.client.get("/")
    assert page.status_code == 200
    html = page.text
    assert 'data-class="BTC"' in html and 'data-weight="0.510000"' in html
    assert 'data-lower="0.450000"' in html and 'data-upper="0.550000"' in html
    assert "51.00 %" in html and "target 50.00 % · band 45.00 %–55.00 %" in html
    assert 'id="approve"' in html  # the pending plan can be approved
    assert "102,380.00 USDT" in html
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"
    fragment = served.client.get("/fragments/overview").text
    assert 'data-class="ETH"' in fragment and "<html" not in fragment


def test_static_files_are_served_locally(served: Any) -> None:
    script = served.client.get("/static/dashboard.js")
    assert script.status_code == 200 and "X-Trimtab-Token" in script.text
    assert served.client.get("/static/dashboard.css").status_code == 200
    page = served.client.get("/").text
    assert "http://" not in page.replace("http://127.0.0.1", "") and "https://" not in page


def test_reports_are_listed_and_served_sandboxed(served: Any) -> None:
    (served.reports / "run.html").write_text("<html><body><h1>report 42</h1></body></html>", encoding="utf-8")
    (served.reports / "notes.txt").write_text("not a report", encoding="utf-8")
    (served.reports.parent / "secret.html").write_text("outside", encoding="utf-8")
    listed = served.client.get("/api/reports").json()
    assert [report["name"] for report in listed] == ["run.html"]
    assert "run.html" in served.client.get("/reports").text
    page = served.client.get("/reports/run.html")
    assert page.status_code == 200 and 'src="/reports/run.html/raw"' in page.text
    raw = served.client.get("/reports/run.html/raw")
    assert "report 42" in raw.text
    assert raw.headers["content-security-policy"].startswith("sandbox allow-scripts")
    for name in ("secret.html", "..%2Fsecret.html", "notes.txt"):
        assert served.client.get(f"/reports/{name}/raw").status_code == 404, name


def test_the_openapi_schema_lists_the_endpoints(served: Any) -> None:
    schema = served.client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/api/valuation",
        "/api/plan",
        "/api/orders",
        "/api/fills",
        "/api/decisions",
        "/api/performance",
        "/api/reports",
        "/api/actions/pause",
        "/api/actions/kill",
        "/api/plans/{plan_id}/approve",
        "/metrics",
    } <= paths
    assert served.client.get("/docs").status_code == 404  # the interactive docs would load a CDN script


def test_a_journal_that_cannot_be_read_is_a_503_with_its_reason(served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from trimtab.storage import StorageError
    from trimtab.web import queries

    def locked(_store: Any) -> None:
        raise StorageError("the journal sqlite:///trimtab-paper.db is locked by another process")

    monkeypatch.setattr(queries, "valuation_view", locked)
    response = served.client.get("/api/valuation")
    assert response.status_code == 503
    assert "locked by another process" in response.json()["detail"]


def test_newest_rows_come_last_and_limits_count_from_the_newest(served: Any) -> None:
    from datetime import UTC, datetime

    from trimtab.storage.journal import Journal

    journal = Journal(served.store)
    for number in range(5):
        journal.add_decision(timestamp=datetime(2026, 11, 22, tzinfo=UTC), cycle=9, kind="guard", reason=f"g{number}")
    assert [d["reason"] for d in served.client.get("/api/decisions", params={"limit": 2}).json()] == ["g3", "g4"]
    guards = served.client.get("/api/decisions", params={"kind": "guard", "limit": 3}).json()
    assert [d["reason"] for d in guards] == ["g2", "g3", "g4"]
    assert "trimtab_guard_trips_total 5.0" in served.client.get("/metrics").text
