"""Withdrawals reach every channel like recommendations: webhook, Redis stream and log, in stream order."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest
import redis
from structlog.testing import capture_logs

from advice_support import MONDAY, issued, record, withdrawn
from engine import outbox
from engine.notifiers import LogNotifier, delivery_id
from engine.notifiers.redis_stream import RedisStreamNotifier
from engine.notifiers.webhook import WebhookNotifier
from events.vocabulary import RecommendationEvent, RecommendationWithdrawn, WithdrawalReason
from workers_support import SECRET

ATHLETE = "ath-1"


@pytest.fixture
def deload_then_withdrawn(store):
    """A deload issued on Monday, withdrawn an hour later because the pain score was amended."""
    deload = issued("pain", "deload", MONDAY, target={"squat_kg": 40.0})
    withdrawal = withdrawn(deload, MONDAY + dt.timedelta(hours=1), WithdrawalReason.CORRECTION)
    record(store, ATHLETE, deload, withdrawal)
    return deload, withdrawal


def test_the_webhook_posts_a_withdrawal_signed_and_keyed_by_its_withdrawal_id(store, receiver, deload_then_withdrawn):
    """Given a deload and its withdrawal in the stream, when the outbox delivers to a webhook, then
    the receiver gets both in order, signed, typed, each under its own idempotency key."""
    deload, withdrawal = deload_then_withdrawn
    outcome = outbox.deliver_pending(store, ATHLETE, WebhookNotifier(receiver.url, SECRET, timeout_s=2))
    assert outcome.delivered == 2 and receiver.all_valid()
    first, second = receiver.attempts
    assert (first["key"], first["body"]["type"]) == (str(deload.recommendation_id), "recommendation.issued")
    assert second["key"] == str(withdrawal.withdrawal_id)
    assert {k: second["body"][k] for k in (
        "type", "withdrawal_id", "recommendation_id", "kind", "topic", "reason")} == {
        "type": "recommendation.withdrawn", "withdrawal_id": str(withdrawal.withdrawal_id),
        "recommendation_id": str(deload.recommendation_id), "kind": "deload", "topic": "pain",
        "reason": "correction"}


def test_the_redis_stream_carries_a_withdrawal_with_its_type_reason_and_key(store, redis_db, deload_then_withdrawn):
    """Given a deload and its withdrawal, when the outbox delivers to a Redis stream, then the
    stream holds two typed entries, the second naming the withdrawn advice, its reason and key."""
    deload, withdrawal = deload_then_withdrawn
    client = redis.Redis.from_url(redis_db, decode_responses=True)
    outbox.deliver_pending(store, ATHLETE, RedisStreamNotifier(client, "apps:recs"))
    [(_, issued_fields), (_, withdrawn_fields)] = client.xrange("apps:recs")
    assert (issued_fields["type"], issued_fields["idempotency_key"]) == (
        "recommendation.issued", str(deload.recommendation_id))
    assert {k: withdrawn_fields[k] for k in ("type", "idempotency_key", "withdrawal_id", "recommendation_id",
                                             "kind", "topic", "reason", "superseded_by")} == {
        "type": "recommendation.withdrawn", "idempotency_key": str(withdrawal.withdrawal_id),
        "withdrawal_id": str(withdrawal.withdrawal_id), "recommendation_id": str(deload.recommendation_id),
        "kind": "deload", "topic": "pain", "reason": "correction", "superseded_by": ""}
    payload = msgspec.json.decode(withdrawn_fields["payload"], type=RecommendationEvent)
    assert payload == withdrawal
    client.close()


def test_the_log_says_recommendation_withdrawn_with_ids_topic_and_reason(store, deload_then_withdrawn):
    """Given a deload and its withdrawal, when the outbox delivers to the log, then the second line
    is ``recommendation_withdrawn`` with both ids, the topic and the reason."""
    deload, withdrawal = deload_then_withdrawn
    with capture_logs() as lines:
        outbox.deliver_pending(store, ATHLETE, LogNotifier())
    assert [line["event"] for line in lines] == ["recommendation_issued", "recommendation_withdrawn"]
    assert {k: lines[1][k] for k in ("withdrawal_id", "recommendation_id", "topic", "reason", "kind")} == {
        "withdrawal_id": str(withdrawal.withdrawal_id), "recommendation_id": str(deload.recommendation_id),
        "topic": "pain", "reason": "correction", "kind": "deload"}


class Recording:
    channel = "webhook"

    def __init__(self) -> None:
        self.seen: list[RecommendationEvent] = []

    def deliver(self, event: RecommendationEvent) -> None:
        self.seen.append(event)


def test_a_withdrawal_is_routed_by_the_kind_of_the_advice_it_withdraws(store):
    """Given a flag, a deload and the deload's withdrawal, when a channel routed to deloads only
    delivers, then it gets the deload and its withdrawal, and passes over the flag."""
    flag = issued("adherence", "flag", MONDAY)
    deload = issued("pain", "deload", MONDAY + dt.timedelta(minutes=5))
    withdrawal = withdrawn(deload, MONDAY + dt.timedelta(hours=2), WithdrawalReason.NO_LONGER_HOLDS)
    record(store, ATHLETE, flag, deload, withdrawal)
    channel = Recording()
    outcome = outbox.deliver_pending(store, ATHLETE, channel, lambda kind: kind == "deload")
    assert channel.seen == [deload, withdrawal]
    assert (outcome.delivered, outcome.skipped, outcome.checkpoint) == (2, 1, 3)


def test_a_refused_withdrawal_is_named_by_its_withdrawal_id_and_can_be_skipped(store, receiver, deload_then_withdrawn):
    """Given a receiver that accepts the deload but refuses its withdrawal for good, when the outbox
    delivers, then the permanent error names the withdrawal id, and skipping it by that id moves
    the channel past it."""
    _, withdrawal = deload_then_withdrawn
    receiver.respond = lambda body, attempt: (410 if body["type"] == "recommendation.withdrawn" else 200, 0)
    with pytest.raises(outbox.PermanentDeliveryError) as refused:
        outbox.deliver_pending(store, ATHLETE, WebhookNotifier(receiver.url, SECRET, timeout_s=2))
    assert refused.value.recommendation_id == delivery_id(withdrawal) == withdrawal.withdrawal_id
    assert outbox.checkpoint(store, ATHLETE, "webhook") == 1
    assert outbox.skip(store, ATHLETE, "webhook", withdrawal.withdrawal_id)
    assert outbox.checkpoint(store, ATHLETE, "webhook") == 2


def test_a_withdrawal_body_round_trips_as_the_stored_event():
    """Given a withdrawal superseded by other advice, when its webhook body is decoded, then it is
    the same event, ``superseded_by`` included."""
    successor = issued("phase", "advance_phase", MONDAY)
    withdrawal = withdrawn(issued("run:walk_run", "progress", MONDAY), MONDAY, WithdrawalReason.SUPERSEDED,
                           superseded_by=successor)
    request = WebhookNotifier("http://127.0.0.1:9/hook", SECRET).request(withdrawal)
    body = json.loads(request.data)
    assert body["superseded_by"] == str(successor.recommendation_id) and body["reason"] == "superseded"
    assert msgspec.json.decode(request.data, type=RecommendationWithdrawn) == withdrawal
