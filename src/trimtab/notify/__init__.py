"""Notifications: webhook and Telegram messages on triggers, trades, guard trips, errors and the kill switch.

The run loop holds a :class:`NotificationHub` and calls ``hub.publish_cycle(report)`` after each cycle (or
``hub.notify(kind, text)`` anywhere); the hub rate-limits, coalesces and never raises into the loop.
"""

from trimtab.notify.channels import Notifier, NotifyError, TelegramNotifier, WebhookNotifier
from trimtab.notify.config import build_hub, load_notify_config
from trimtab.notify.events import KINDS, Event, events_from_cycle
from trimtab.notify.hub import NotificationHub, RateLimit

__all__ = [
    "KINDS",
    "Event",
    "NotificationHub",
    "Notifier",
    "NotifyError",
    "RateLimit",
    "TelegramNotifier",
    "WebhookNotifier",
    "build_hub",
    "events_from_cycle",
    "load_notify_config",
]
