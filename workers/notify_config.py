"""Which notifiers run and which recommendation kinds each one gets: a TOML file and/or the environment.

``STRIDELINE_NOTIFY_CONFIG`` names an optional TOML file::

    [log]
    kinds = ["*"]                        # every kind; [] turns the channel off

    [webhook]
    url = "https://coach.example/hooks/strideline"
    secret_env = "STRIDELINE_WEBHOOK_SECRET"   # or: secret = "..."
    timeout_s = 5
    kinds = ["advance_phase", "regress_phase", "deload", "flag"]

    [redis_stream]
    url = "redis://redis:6379/0"         # default: STRIDELINE_REDIS_URL
    stream = "strideline:recommendations"
    maxlen = 100000
    kinds = ["*"]

Environment variables override the file: ``STRIDELINE_WEBHOOK_URL``, ``STRIDELINE_WEBHOOK_SECRET``,
``STRIDELINE_WEBHOOK_TIMEOUT_S``, ``STRIDELINE_REDIS_STREAM``, ``STRIDELINE_REDIS_STREAM_MAXLEN`` and
``STRIDELINE_{LOG,WEBHOOK,REDIS_STREAM}_KINDS`` (comma-separated kinds, ``*`` for all, empty for
none). The webhook runs when it has a URL; the Redis stream when a Redis URL is known.
"""

from __future__ import annotations

import os
import tomllib
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.notifiers import LogNotifier, Notifier, Routing
from engine.notifiers.redis_stream import DEFAULT_MAXLEN, RedisStreamNotifier
from engine.notifiers.webhook import WebhookNotifier
from engine.policies.base import KINDS
from engine.tenancy.webhooks import InsecureWebhook, check_webhook_settings
from workers import keys

CHANNELS = ("log", "webhook", "redis_stream")


class NotifyConfigError(ValueError):
    """The notifier configuration is invalid; the message names the setting."""


def _kinds(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [k.strip() for k in value.split(",") if k.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(k, str) for k in value):
        raise NotifyConfigError(f"{where}: kinds must be a list of strings")
    unknown = [k for k in value if k != "*" and k not in KINDS]
    if unknown:
        raise NotifyConfigError(f"{where}: unknown kinds {unknown}; known: {', '.join(KINDS)} or *")
    return tuple(value)


def load(env: Mapping[str, str] | None = None) -> tuple[dict[str, Notifier], Routing]:
    """The notifiers and routing this process runs with."""
    env = os.environ if env is None else env
    config: dict[str, Any] = {}
    if path := env.get("STRIDELINE_NOTIFY_CONFIG"):
        try:
            config = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise NotifyConfigError(f"STRIDELINE_NOTIFY_CONFIG={path}: {exc}") from exc
    unknown = set(config) - set(CHANNELS)
    if unknown:
        raise NotifyConfigError(f"notify config: unknown sections {sorted(unknown)}; known: {CHANNELS}")
    sections = {c: dict(config.get(c, {})) for c in CHANNELS}
    overrides = {
        ("webhook", "url"): "STRIDELINE_WEBHOOK_URL", ("webhook", "secret"): "STRIDELINE_WEBHOOK_SECRET",
        ("webhook", "timeout_s"): "STRIDELINE_WEBHOOK_TIMEOUT_S", ("redis_stream", "stream"): "STRIDELINE_REDIS_STREAM",
        ("redis_stream", "maxlen"): "STRIDELINE_REDIS_STREAM_MAXLEN", ("log", "kinds"): "STRIDELINE_LOG_KINDS",
        ("webhook", "kinds"): "STRIDELINE_WEBHOOK_KINDS", ("redis_stream", "kinds"): "STRIDELINE_REDIS_STREAM_KINDS",
    }
    for (section, key), var in overrides.items():
        if var in env:
            sections[section][key] = env[var]

    routing = Routing(**{c: _kinds(sections[c].get("kinds", ["*"]), f"[{c}]") for c in CHANNELS})
    notifiers: dict[str, Notifier] = {}
    if routing.log:
        notifiers["log"] = LogNotifier()
    webhook = sections["webhook"]
    if webhook.get("url") and routing.webhook:
        secret = webhook.get("secret") or env.get(webhook.get("secret_env", "STRIDELINE_WEBHOOK_SECRET"), "")
        if not secret:
            raise NotifyConfigError("[webhook]: a url needs a signing secret (STRIDELINE_WEBHOOK_SECRET)")
        allow = str(env.get("STRIDELINE_WEBHOOK_ALLOW_INSECURE", webhook.get("allow_insecure", ""))).lower() \
            in ("1", "true", "yes") or _loopback(str(webhook["url"]))
        try:
            check_webhook_settings(str(webhook["url"]), secret, allow_insecure=allow)
        except InsecureWebhook as exc:
            raise NotifyConfigError(f"[webhook]: {exc} (STRIDELINE_WEBHOOK_ALLOW_INSECURE=1 to allow it)") from exc
        try:
            notifiers["webhook"] = WebhookNotifier(str(webhook["url"]), secret,
                                                   timeout_s=float(webhook.get("timeout_s", 5.0)))
        except ValueError as exc:
            raise NotifyConfigError(f"[webhook]: {exc}") from exc
    stream = sections["redis_stream"]
    redis_url = stream.get("url") or env.get("STRIDELINE_REDIS_URL")
    if redis_url and routing.redis_stream:
        notifiers["redis_stream"] = RedisStreamNotifier.from_url(
            str(redis_url), str(stream.get("stream", keys.RECOMMENDATIONS_STREAM)),
            maxlen=int(stream.get("maxlen", DEFAULT_MAXLEN)))
    return notifiers, routing


def _loopback(url: str) -> bool:
    """A receiver on this host (a developer's or a test's): its traffic never leaves the machine."""
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
