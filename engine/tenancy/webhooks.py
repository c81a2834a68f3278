"""Webhook settings and signature checks that refuse the weak cases by default.

* A webhook URL must be ``https://`` and its secret at least 32 bytes, unless the operator passes
  ``allow_insecure`` (a local test receiver).
* Dead letters and logs show a webhook URL as scheme and host only (:func:`redact_url`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

MIN_SECRET_BYTES = 32


class InsecureWebhook(ValueError):
    """The webhook URL or secret is refused (http://, short secret) without ``allow_insecure``."""


def check_webhook_settings(url: str | None, secret: str | bytes | None, *, allow_insecure: bool = False) -> None:
    if url:
        parts = urlsplit(url)
        if parts.scheme not in {"https", "http"} or not parts.netloc:
            raise InsecureWebhook(f"webhook URL must be an absolute https:// URL, not {redact_url(url)!r}")
        if parts.scheme == "http" and not allow_insecure:
            raise InsecureWebhook("webhook URL must use https:// (pass allow_insecure for a local receiver)")
    if secret is not None and secret != "":
        size = len(secret.encode("utf-8") if isinstance(secret, str) else secret)
        if size < MIN_SECRET_BYTES and not allow_insecure:
            raise InsecureWebhook(f"webhook secret is {size} bytes; at least {MIN_SECRET_BYTES} are required")


def redact_url(url: str) -> str:
    """Scheme and host only: paths and queries of webhook URLs often carry tokens."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…" if parts.scheme else "<redacted>"
