"""Redis-stream notifier: one ``XADD <stream> MAXLEN ~ <n>`` entry per recommendation-stream entry.

Apps read the stream with consumer groups (docs/workers.md):

    XGROUP CREATE strideline:recommendations coach-app $ MKSTREAM
    XREADGROUP GROUP coach-app worker-1 COUNT 100 BLOCK 5000 STREAMS strideline:recommendations >
    XACK strideline:recommendations coach-app <entry-id>

Entry fields: ``type`` (``recommendation.issued`` or ``recommendation.withdrawn``),
``idempotency_key`` (the recommendation id of advice issued, the withdrawal id of a withdrawal),
``recommendation_id`` (for a withdrawal: the advice withdrawn), ``athlete_id``, ``kind``, ``topic``,
``rule_id``, ``decision_time`` (ISO 8601), ``supersedes`` (issued) or ``withdrawal_id``, ``reason``
and ``superseded_by`` (withdrawn; an absent id is an empty string), and ``payload`` (the event as
JSON, the same body the webhook posts). Delivery is at-least-once: a retried delivery may add a
second entry, so consumers dedupe by ``idempotency_key``. The stream is trimmed approximately to
``maxlen`` entries.
"""

from __future__ import annotations

import uuid

import redis

from engine.notifiers.base import delivery_id, delivery_type
from events.codec import encode_json
from events.vocabulary import RecommendationEvent, RecommendationWithdrawn

DEFAULT_MAXLEN = 100_000


def _id(value: uuid.UUID | None) -> str:
    return "" if value is None else str(value)


class RedisStreamNotifier:
    channel = "redis_stream"

    def __init__(self, client: redis.Redis, stream: str, *, maxlen: int = DEFAULT_MAXLEN) -> None:
        self.client = client
        self.stream = stream
        self.maxlen = maxlen

    @classmethod
    def from_url(cls, url: str, stream: str, *, maxlen: int = DEFAULT_MAXLEN) -> RedisStreamNotifier:
        return cls(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5), stream, maxlen=maxlen)

    def fields(self, event: RecommendationEvent) -> dict[str, bytes | str]:
        fields: dict[str, bytes | str] = {
            "type": delivery_type(event),
            "idempotency_key": str(delivery_id(event)),
            "recommendation_id": str(event.recommendation_id),
            "athlete_id": event.athlete_id,
            "kind": event.kind,
            "topic": event.topic,
            "rule_id": event.rule_id,
            "decision_time": event.decision_time.isoformat(),
        }
        if isinstance(event, RecommendationWithdrawn):
            fields.update(withdrawal_id=str(event.withdrawal_id), reason=str(event.reason),
                          superseded_by=_id(event.superseded_by))
        else:
            fields["supersedes"] = _id(event.supersedes)
        fields["payload"] = encode_json(event)
        return fields

    def deliver(self, event: RecommendationEvent) -> None:
        self.client.xadd(self.stream, self.fields(event), maxlen=self.maxlen, approximate=True)
