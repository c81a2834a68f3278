"""The webhook notifier on its own: signed requests, and which answers are retried."""

from __future__ import annotations

import datetime as dt
import socket
import uuid

import pytest

from engine.notifiers import DeliveryRejected
from engine.notifiers.webhook import WebhookFailed, WebhookNotifier, sign, verify_signature
from events.vocabulary import RecommendationIssued
from workers_support import SECRET

REC = RecommendationIssued(
    recommendation_id=uuid.UUID("3d8f7c1e-5a44-5b0e-9f61-0c2b8e1d4a77"), athlete_id="ath-1", kind="hold",
    topic="strength:squat", rule_id="strength.hsr_hold", explanation="hold the load", policy_name="baseline",
    policy_version="1", decision_time=dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc), trigger_position=7,
    target={"load_kg": 40.0})


def notifier(url: str) -> WebhookNotifier:
    return WebhookNotifier(url, SECRET, timeout_s=0.5)


def test_a_request_is_signed_and_carries_the_idempotency_key(receiver):
    """Body, timestamp and signature verify with the shared secret; the key is the recommendation id."""
    notifier(receiver.url).deliver(REC)
    [attempt] = receiver.attempts
    assert attempt["valid"] and attempt["key"] == str(REC.recommendation_id)
    assert attempt["body"]["recommendation_id"] == str(REC.recommendation_id)
    assert attempt["body"]["type"] == "recommendation.issued"


def test_a_signature_does_not_verify_with_another_body_secret_or_an_old_timestamp():
    """Any change to the body or secret, or a stale timestamp, fails verification."""
    body, ts = b'{"a":1}', "1770000000"
    good = sign(SECRET.encode(), ts, body)
    assert verify_signature(SECRET.encode(), body, ts, good, now=1770000010)
    assert not verify_signature(SECRET.encode(), b'{"a":2}', ts, good, now=1770000010)
    assert not verify_signature(b"other", body, ts, good, now=1770000010)
    assert not verify_signature(SECRET.encode(), body, ts, good, now=1770000000 + 3600)


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_server_errors_timeouts_and_throttling_are_worth_retrying(receiver, status):
    """5xx, 408 and 429 raise WebhookFailed (the worker retries with backoff)."""
    receiver.respond = lambda body, attempt: (status, 0)
    with pytest.raises(WebhookFailed):
        notifier(receiver.url).deliver(REC)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422, 302])
def test_other_client_errors_and_redirects_are_refusals(receiver, status):
    """Any other 4xx (and a redirect) raises DeliveryRejected: never retried."""
    receiver.respond = lambda body, attempt: (status, 0)
    with pytest.raises(DeliveryRejected):
        notifier(receiver.url).deliver(REC)


def test_a_slow_receiver_times_out_as_a_retryable_failure(receiver):
    """No answer within the timeout raises WebhookFailed."""
    receiver.respond = lambda body, attempt: (200, 1.5)
    with pytest.raises(WebhookFailed):
        notifier(receiver.url).deliver(REC)


def test_an_unreachable_receiver_is_a_retryable_failure():
    """Connection refused raises WebhookFailed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(WebhookFailed):
        notifier(f"http://127.0.0.1:{port}/hook").deliver(REC)
