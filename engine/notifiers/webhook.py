"""Webhook notifier: one signed HTTP POST of JSON per recommendation-stream entry (stdlib urllib,
no redirects).

The body is the event as JSON with its ``type``: ``recommendation.issued`` (advice issued; its
``supersedes`` names the advice it replaces on its topic) or ``recommendation.withdrawn`` (the
``recommendation_id`` withdrawn, with ``withdrawal_id``, ``kind``, ``topic``, ``rule_id``,
``reason`` - ``superseded``, ``no_longer_holds`` or ``correction`` - ``explanation`` and
``superseded_by``). Fields at their default (null ids, empty targets) are left out.

Headers of every request:

* ``Content-Type: application/json``
* ``Idempotency-Key: <id>`` - the recommendation id of advice issued, the withdrawal id of a
  withdrawal; the same for every retry; receivers dedupe by it.
* ``X-Strideline-Timestamp: <unix seconds>`` - when this attempt was signed.
* ``X-Strideline-Signature: sha256=<hex>`` - HMAC-SHA256 with the shared secret over
  ``<timestamp>.<body>`` (the timestamp header, a dot, then the raw body bytes), so a captured
  request cannot be replayed later with a fresh timestamp. Verify with :func:`verify_signature`.

Outcomes: 2xx delivered. 408, 429, 5xx, timeouts and connection errors raise ``WebhookFailed``
(retried with backoff by the worker). Any other status (3xx, 4xx) raises ``DeliveryRejected``: not
retried, dead-lettered at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from engine.notifiers.base import DeliveryRejected, delivery_id
from engine.tenancy.webhooks import redact_url
from events.codec import encode_json
from events.vocabulary import RecommendationEvent

SIGNATURE_HEADER = "X-Strideline-Signature"
TIMESTAMP_HEADER = "X-Strideline-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRYABLE_STATUSES = frozenset({408, 429})
DEFAULT_TOLERANCE_S = 300


class WebhookFailed(Exception):
    """A delivery attempt that may succeed later (timeout, connection error, 408, 429, 5xx)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


def sign(secret: bytes | str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (secret as str or bytes)."""
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    digest = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: bytes | str, body: bytes, timestamp: str, signature: str, *,
                     now: float | None = None, tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """What a receiver checks: the signature matches and the timestamp is within the tolerance of
    now, in the past or the future. Deduplicate deliveries on the signed recommendation id."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirected POST would lose its body: treat 3xx as a refusal


class WebhookNotifier:
    """POSTs each recommendation-stream entry (advice issued or withdrawn) as JSON to ``url``."""

    channel = "webhook"

    def __init__(self, url: str, secret: bytes | str, *, timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.time) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url must be http(s), not {url!r}")
        if not secret:
            raise ValueError("a webhook needs a signing secret")
        self.url = url
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self.timeout_s = timeout_s
        self.clock = clock
        self._opener = urllib.request.build_opener(_NoRedirect)

    def request(self, event: RecommendationEvent) -> urllib.request.Request:
        body = encode_json(event)
        timestamp = str(int(self.clock()))
        return urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "User-Agent": "strideline-webhook/1",
            IDEMPOTENCY_HEADER: str(delivery_id(event)),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
        })

    def deliver(self, event: RecommendationEvent) -> None:
        try:
            with self._opener.open(self.request(event), timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
            if status >= 500 or status in RETRYABLE_STATUSES:
                raise WebhookFailed(f"{redact_url(self.url)} answered {status}", status) from None
            raise DeliveryRejected(f"{redact_url(self.url)} answered {status}: not retried") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WebhookFailed(f"{redact_url(self.url)}: {type(reason).__name__}: {reason}") from None
