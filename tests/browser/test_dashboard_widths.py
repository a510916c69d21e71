"""The overview in headless Chromium at desktop and phone widths: liveness, axes, danger colours, approval.

A journal is seeded with the dashboard's sample cycles, positions at three distances from liquidation and
a pending plan with its costs and margin, then served by ``trimtab serve``; the page is checked while the
heartbeat says running, stale and stopped. Screenshots go to ``artifacts/``; with
``TRIMTAB_DOCS_SCREENSHOT=1`` they also refresh ``docs/images/overview.png`` and ``overview-phone.png``.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trimtab.storage import Store, open_store
from trimtab.storage.heartbeat import Heartbeat
from trimtab.storage.journal import Journal
from trimtab.web.sample import EQUITIES, class_payload, seed_sample_journal

from .test_dashboard_e2e import ARTIFACTS, ROOT, launch, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
RED, AMBER, GREEN = "rgb(185, 28, 28)", "rgb(180, 83, 9)", "rgb(4, 120, 87)"
GREY = "rgb(75, 85, 99)"
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _position(symbol: str, mark: float, liquidation: float) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "amount": -0.5,
        "entry_price": mark * 0.98,
        "mark": mark,
        "notional": 0.5 * mark,
        "leverage": 5.0,
        "liquidation_price": liquidation,
        "liquidation_distance": abs(liquidation - mark) / mark,
    }


SELL = {"class": "BTC", "symbol": "BTC/USDT", "side": "sell", "amount": 0.13, "price": 60_000.0, "notional": 7_800.0}
AFTER = {"ok": True, "free_collateral": 18_792.2, "required": 13_500.0, "gross_leverage": 1.45}


def seed(store: Store) -> None:
    sample = seed_sample_journal(store, START)
    journal = Journal(store)
    journal.set_plan_status(sample["pending_plan_id"], "rejected")  # the plan on show is the one below
    payload = {
        "base_currency": "USDT",
        "equity": EQUITIES[3],
        "triggered": False,
        "classes": class_payload(3, EQUITIES[3]),
        "margin": {"initial": 9_000.0, "free_collateral": 11_000.0, "ok": False, "required": 13_500.0},
        "gross_leverage": 1.9,
        "positions": [
            _position("BTC/USDT:USDT", 60_000.0, 63_600.0),  # 6 % away: red
            _position("ETH/USDT:USDT", 3_000.0, 3_540.0),  # 18 %: amber
            _position("SOL/USDT:USDT", 140.0, 210.0),  # 50 %: green
        ],
    }
    journal.save_snapshot(
        timestamp=START + timedelta(hours=4), cycle=5, equity=EQUITIES[3], halted=False, payload=payload
    )
    journal.save_plan(
        "p-pending-costs",
        created_at=START + timedelta(hours=4),
        cycle=5,
        venue="paper",
        equity=EQUITIES[3],
        triggered=True,
        reason="BTC at 58.00 % is outside 45.00–55.00 %",
        status="pending",
        payload={
            "classes": class_payload(3, EQUITIES[3]),
            "trades": [
                {
                    "class": "BTC",
                    "symbol": "BTC/USDT",
                    "side": "sell",
                    "amount": 0.13,
                    "price": 60_000.0,
                    "notional": 7_800.0,
                },
            ],
            "costs": {"fees": 7.8, "slippage": 3.9, "funding_per_day": -1.2},
            "margin": {
                "ok": True,
                "after": {"ok": True, "free_collateral": 18_792.2, "required": 13_500.0, "gross_leverage": 1.45},
            },
            "notes": [],
        },
    )


def colour(locator: Any, prop: str = "color") -> str:
    return str(locator.evaluate(f"el => getComputedStyle(el).{prop}"))


def check_page(sync_api: Any, page: Any, width: int) -> None:
    # Axes: labelled value ticks and dates on both time charts.
    for chart in ("#drift", "#equity-curve"):
        ticks = page.locator(f"{chart} .y-axis text.tick")
        dates = page.locator(f"{chart} .x-axis text.date")
        assert ticks.count() >= 3, chart
        assert dates.count() >= 2, chart
        assert (dates.first.text_content() or "").startswith("11-20"), dates.first.text_content()
        box = page.locator(f"{chart} svg.timechart").bounding_box()
        assert box is not None and box["width"] > 0.6 * min(width, 640) and box["x"] + box["width"] <= width + 1
    assert "pp" in (page.locator("#drift .y-axis").text_content() or "")
    # Danger colours per position and for the account.
    rows = page.locator("tr.position")
    assert rows.count() == 3
    expected = {"BTC/USDT:USDT": ("danger", RED), "ETH/USDT:USDT": ("warn", AMBER), "SOL/USDT:USDT": ("safe", GREEN)}
    for index in range(3):
        row = rows.nth(index)
        level, rgb = expected[row.get_attribute("data-symbol") or ""]
        assert row.get_attribute("data-risk") == level
        assert colour(row.locator("span.risk"), "backgroundColor") == rgb
    assert page.locator("#margin-ok").inner_text() == "breached"
    assert colour(page.locator("#margin-ok"), "backgroundColor") == RED
    assert page.locator("#liquidation").inner_text() == "6.00 %"
    # The approval card: the trade with its price, the costs, the margin after the plan, the buttons.
    assert "60,000.00" in page.locator("#plan").inner_text()
    costs = page.locator("#plan-costs")
    assert costs.locator('[data-plan-cost="fees"]').inner_text() == "7.80"
    assert costs.locator('[data-plan-cost="slippage"]').inner_text() == "3.90"
    assert costs.locator('[data-plan-cost="funding_per_day"]').inner_text() == "-1.20"
    assert page.locator("#plan-margin-ok").inner_text() == "ok"
    assert "18,792.20" in page.locator("#plan-margin").inner_text()
    assert page.locator("#approve").is_visible() and page.locator("#reject").is_visible()
    # Nothing wider than the screen: every card fits, and the class bars keep a visible width.
    cards = page.locator("section.card")
    for index in range(cards.count()):
        box = cards.nth(index).bounding_box()
        assert box is not None and box["x"] + box["width"] <= width + 1, cards.nth(index).get_attribute("id")
    for index in range(page.locator("svg.bar").count()):
        bar = page.locator("svg.bar").nth(index).bounding_box()
        assert bar is not None and bar["width"] > 0.5 * min(width, 600)


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_overview_at_desktop_and_phone_widths(sync_api: Any, tmp_path: Path, size: str) -> None:
    viewport = WIDTHS[size]
    state = f"sqlite:///{tmp_path / 'trimtab-paper.db'}"
    store = open_store(state)
    seed(store)
    beat = Heartbeat(store, venue="paper", interval_s=60.0, planned_cycles=None).begin()
    beat.beat(5, 0.4)
    with serving(state, tmp_path) as base, sync_api.sync_playwright() as playwright:
        browser = launch(sync_api, playwright)
        try:
            page = browser.new_page(viewport=viewport)
            page.goto(base + "/")
            live = page.locator("#liveness")
            assert live.get_attribute("data-state") == "running"
            assert colour(live) == GREEN
            assert page.locator("#liveness-reason").inner_text().endswith("expected every 60 s")
            check_page(sync_api, page, viewport["width"])
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / f"dashboard-{size}.png"
            page.screenshot(path=str(shot), full_page=True)
            if os.environ.get("TRIMTAB_DOCS_SCREENSHOT") == "1":
                name = "overview.png" if size == "desktop" else "overview-phone.png"
                shutil.copyfile(shot, ROOT / "docs" / "images" / name)

            # A run that stopped beating without ending: stale, in red.
            old = datetime.now(UTC) - timedelta(minutes=20)
            Heartbeat(store, venue="paper", interval_s=60.0, planned_cycles=None, clock=lambda: old).begin()
            page.reload()
            assert live.get_attribute("data-state") == "stale"
            assert colour(live) == RED
            assert "no heartbeat for more than 2 min 30 s" in page.locator("#liveness-reason").inner_text()

            # An ended run (a --once run, say): stopped, in grey; never green.
            ended = Heartbeat(store, venue="paper", interval_s=60.0, planned_cycles=1).begin()
            ended.beat(6, 0.3)
            ended.end("one cycle (--once) done")
            page.reload()
            assert live.get_attribute("data-state") == "stopped"
            assert colour(live) == GREY
            assert page.locator("#liveness-reason").inner_text().endswith("one cycle (--once) done")
            assert colour(page.locator("#mode")) != GREEN  # the brake's "trading" is not shown green either
        finally:
            browser.close()
            store.close()
