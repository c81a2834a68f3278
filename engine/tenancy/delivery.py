"""Per-organisation delivery: the notifier an athlete's recommendations go through.

An organisation may carry its own webhook URL and secret and its own Redis stream
(``strideline orgs configure``). The outbox calls :func:`notifier_for` before delivering one
athlete's recommendations; when the athlete's organisation overrides the channel's destination, it
gets a notifier for that destination (built once per destination and kept), otherwise the process's
own. The channel, and so the outbox checkpoint, stays the same.
"""

from __future__ import annotations

import threading
from typing import Any

from engine.tenancy.orgs import delivery_settings

_BUILT: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def notifier_for(store: Any, athlete_id: str, notifier: Any) -> Any:
    channel = getattr(notifier, "channel", "")
    if channel not in {"webhook", "redis_stream"} or not hasattr(store, "sql_session"):
        return notifier
    settings = delivery_settings(store, athlete_id)
    if channel == "webhook" and settings.webhook_url and settings.webhook_secret:
        key = ("webhook", settings.webhook_url, settings.webhook_secret)
        return _built(key, lambda: _webhook(notifier, settings))
    if channel == "redis_stream" and settings.redis_stream:
        key = ("redis_stream", id(notifier.client), settings.redis_stream)
        return _built(key, lambda: type(notifier)(notifier.client, settings.redis_stream, maxlen=notifier.maxlen))
    return notifier


def _webhook(process_wide: Any, settings) -> Any:
    return type(process_wide)(settings.webhook_url, settings.webhook_secret,
                              timeout_s=getattr(process_wide, "timeout_s", 5.0))


def _built(key: tuple, build) -> Any:
    with _LOCK:
        found = _BUILT.get(key)
        if found is None:
            found = _BUILT[key] = build()
        return found
