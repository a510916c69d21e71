"""Webhook and Telegram notifiers against a local receiver: delivery, rate limiting, coalescing, failures."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from trimtab.errors import BadInputError
from trimtab.notify import (
    Event,
    NotificationHub,
    RateLimit,
    TelegramNotifier,
    WebhookNotifier,
    build_hub,
    load_notify_config,
)

CANARY_TOKEN = "123456:CANARY-bot-token-do-not-leak"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_webhook_receives_the_events_as_json(receiver: Any) -> None:
    hub = NotificationHub([WebhookNotifier(receiver.url + "/hook")], clock=FakeClock())
    hub.publish(Event("trade", "sell 0.2 BTC/USDT (filled)", NOW, {"client_order_id": "tt-1"}))
    assert hub.pump() == 1
    (path, body), *_ = receiver.requests
    assert path == "/hook"
    assert body["source"] == "trimtab"
    assert body["events"] == [
        {
            "kind": "trade",
            "text": "sell 0.2 BTC/USDT (filled)",
            "timestamp": "2026-11-21T12:00:00Z",
            "data": {"client_order_id": "tt-1"},
        }
    ]
    assert "sell 0.2 BTC/USDT" in body["text"]


def test_telegram_calls_send_message_with_the_chat_and_text(receiver: Any) -> None:
    notifier = TelegramNotifier(CANARY_TOKEN, "-100200", base_url=receiver.url)
    hub = NotificationHub([notifier], clock=FakeClock())
    hub.notify("kill", "kill switch thrown from the dashboard")
    assert hub.pump() == 1
    path, body = receiver.requests[0]
    assert path == f"/bot{CANARY_TOKEN}/sendMessage"
    assert body["chat_id"] == "-100200"
    assert body["text"].endswith("trimtab kill: kill switch thrown from the dashboard")


def test_a_burst_then_one_message_per_interval_and_the_rest_coalesced(receiver: Any) -> None:
    clock = FakeClock()
    hub = NotificationHub([WebhookNotifier(receiver.url)], RateLimit(burst=2, interval=60.0), clock=clock)
    for number in range(50):
        hub.notify("error", f"venue unreachable #{number}")
        hub.pump()
    # The burst of two went out at once; the other 48 wait for the next token.
    assert len(receiver.requests) == 2
    clock.now += 59.0
    assert hub.pump() == 0
    clock.now += 1.0
    assert hub.pump() == 1
    bodies = receiver.bodies()
    assert [len(body["events"]) for body in bodies] == [1, 1, 48]
    assert bodies[2]["text"].startswith("trimtab: 48 error")
    assert hub.stats()["webhook"].coalesced == 47
    assert hub.stats()["webhook"].events == 50


def test_each_channel_gets_only_the_kinds_it_subscribed_to(receiver: Any) -> None:
    trades = WebhookNotifier(receiver.url + "/trades", name="trades")
    errors = WebhookNotifier(receiver.url + "/errors", name="errors")
    hub = NotificationHub([(trades, {"trade"}), (errors, {"error", "kill"})], clock=FakeClock())
    hub.notify("trade", "buy 1 ETH/USDT")
    hub.notify("error", "timeout")
    hub.notify("trigger", "BTC outside its band")
    hub.pump()
    got = {path: [event["kind"] for event in body["events"]] for path, body in receiver.requests}
    assert got == {"/trades": ["trade"], "/errors": ["error"]}


def test_a_failing_receiver_backs_off_and_never_raises(receiver: Any, caplog: pytest.LogCaptureFixture) -> None:
    receiver.status = 500
    clock = FakeClock()
    hub = NotificationHub(
        [TelegramNotifier(CANARY_TOKEN, "1", base_url=receiver.url)],
        RateLimit(burst=10, interval=1.0, backoff=30.0, max_backoff=120.0),
        clock=clock,
    )
    with caplog.at_level(logging.WARNING):
        hub.notify("error", "first")
        assert hub.pump() == 0
        hub.notify("error", "second")
        assert hub.pump() == 0  # backing off: nothing is even tried
        assert len(receiver.requests) == 1
        clock.now += 30.0
        assert hub.pump() == 0  # tried again, failed again: the back-off doubles
        assert len(receiver.requests) == 2
        clock.now += 30.0
        hub.notify("error", "third")
        hub.pump()
        assert len(receiver.requests) == 2
    stats = hub.stats()["telegram"]
    assert stats.failures == 2
    assert stats.dropped == 2
    assert "HTTP 500" in stats.last_error
    assert CANARY_TOKEN not in stats.last_error
    assert CANARY_TOKEN not in caplog.text


def test_an_unreachable_endpoint_is_a_counted_failure_not_an_exception() -> None:
    hub = NotificationHub([WebhookNotifier(f"http://127.0.0.1:{free_port()}/x", timeout=1.0)], clock=FakeClock())
    hub.notify("guard", "order above the cap refused")
    assert hub.pump() == 0
    assert hub.stats()["webhook"].failures == 1
    assert "ConnectError" in hub.stats()["webhook"].last_error


def test_the_background_thread_delivers_and_flush_waits_for_it(receiver: Any) -> None:
    hub = NotificationHub([WebhookNotifier(receiver.url)]).start()
    try:
        hub.publish_cycle(
            {
                "cycle": 7,
                "timestamp": "2026-11-21T12:00:00Z",
                "triggered": True,
                "halted": False,
                "orders": [
                    {"client_order_id": "a", "symbol": "BTC/USDT", "side": "sell", "filled": 0.1, "status": "filled"}
                ],
            }
        )
        assert hub.flush(timeout=10.0)
    finally:
        hub.close()
    kinds = [event["kind"] for body in receiver.bodies() for event in body["events"]]
    assert sorted(kinds) == ["trade", "trigger"]


def test_the_queue_is_bounded_and_publishing_never_blocks_on_a_dead_channel() -> None:
    clock = FakeClock()
    hub = NotificationHub([WebhookNotifier("http://127.0.0.1:9/never")], clock=clock, max_pending=10)
    for number in range(25):
        hub.notify("error", f"e{number}")
    assert hub.pending() == 10
    assert hub.stats()["webhook"].dropped == 15


def test_a_bad_kind_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    hub = NotificationHub([], clock=FakeClock())
    with caplog.at_level(logging.ERROR):
        hub.notify("party", "nope")
    assert "could not build a notification" in caplog.text


def test_the_config_file_builds_both_channels(tmp_path: Path, receiver: Any) -> None:
    path = tmp_path / "notify.toml"
    path.write_text(
        "[rate]\nburst = 3\ninterval = 10.0\n\n"
        '[[webhook]]\nurl_env = "HOOK_URL"\nkinds = ["trade"]\n\n'
        f'[[telegram]]\nchat_id = "42"\nbase_url = "{receiver.url}"\n',
        encoding="utf-8",
    )
    config = load_notify_config(path)
    hub = build_hub(config, "notify.toml", {"HOOK_URL": receiver.url + "/hook", "TRIMTAB_TELEGRAM_TOKEN": CANARY_TOKEN})
    hub.notify("trade", "buy 1 BTC/USDT")
    hub.pump()
    paths = sorted(path for path, _ in receiver.requests)
    assert paths == [f"/bot{CANARY_TOKEN}/sendMessage", "/hook"]
    assert hub.rate.burst == 3


def test_a_missing_bot_token_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "notify.toml"
    path.write_text('[[telegram]]\nchat_id = "42"\n', encoding="utf-8")
    with pytest.raises(BadInputError, match=r"notify.toml: telegram\[0\].token_env: TRIMTAB_TELEGRAM_TOKEN is not set"):
        build_hub(load_notify_config(path), "notify.toml", {})


def test_unknown_keys_in_the_config_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "notify.toml"
    path.write_text('[[webhook]]\nurl = "http://127.0.0.1/x"\ncolour = "red"\n', encoding="utf-8")
    with pytest.raises(BadInputError, match=r"notify.toml: webhook\[0\].colour: unknown key"):
        load_notify_config(path)


def test_a_cycle_report_of_the_run_loop_becomes_events() -> None:
    from trimtab.notify import events_from_cycle

    report = {
        "cycle": 3,
        "timestamp": "2026-11-21T12:00:00Z",
        "equity": 100_000.0,
        "triggered": True,
        "halted": False,
        "orders": [
            {"client_order_id": "a", "symbol": "BTC/USDT", "side": "sell", "filled": 0.11, "average_price": 58029.0,
             "status": "filled"},
            {"client_order_id": "b", "symbol": "ETH/USDT", "side": "buy", "filled": 0.0, "status": "canceled"},
        ],
        "paused": ["BTC price is stale"],
        "decisions": ["BTC at 46.40 % is outside 36.00–44.00 %"],
    }  # fmt: skip
    events = events_from_cycle(report)
    assert [(e.kind, e.text) for e in events] == [
        ("trigger", "cycle 3: BTC at 46.40 % is outside 36.00–44.00 %"),
        ("trade", "sell 0.11 BTC/USDT at 58029 (filled)"),
        ("guard", "BTC price is stale"),
    ]
    assert events[0].timestamp == NOW
    halted = events_from_cycle({"cycle": 4, "halted": True, "decisions": ["2 order(s) not sent: drill"]})
    assert [(e.kind, e.text) for e in halted] == [("kill", "cycle 4: no orders sent: 2 order(s) not sent: drill")]


def test_the_halt_is_announced_when_it_starts_and_ends_not_every_cycle(receiver: Any) -> None:
    hub = NotificationHub([WebhookNotifier(receiver.url)], RateLimit(burst=50, interval=1.0), clock=FakeClock())
    for cycle, halted in enumerate([False, True, True, True, False, False], start=1):
        hub.publish_cycle({"cycle": cycle, "halted": halted, "decisions": ["drill"] if halted else []})
        hub.pump()
    texts = [event["text"] for body in receiver.bodies() for event in body["events"]]
    assert texts == [
        "cycle 2: no orders sent: drill",
        "cycle 5: the halt is lifted; orders may be sent again",
    ]
