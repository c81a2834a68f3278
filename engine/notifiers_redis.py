"""Redis-stream notifier: one ``XADD <stream> MAXLEN ~ <n>`` entry per recommendation.

Apps read the stream with consumer groups (docs/workers.md):

    XGROUP CREATE strideline:recommendations coach-app $ MKSTREAM
    XREADGROUP GROUP coach-app worker-1 COUNT 100 BLOCK 5000 STREAMS strideline:recommendations >
    XACK strideline:recommendations coach-app <entry-id>

Entry fields: ``recommendation_id``, ``athlete_id``, ``kind``, ``rule_id``, ``decision_time``
(ISO 8601) and ``payload`` (the recommendation as JSON, the same body the webhook posts). Delivery is
at-least-once: a retried delivery may add a second entry, so consumers dedupe by
``recommendation_id``. The stream is trimmed approximately to ``maxlen`` entries.
"""

from __future__ import annotations

import redis

from events.codec import encode_json
from events.vocabulary import RecommendationIssued

DEFAULT_MAXLEN = 100_000


class RedisStreamNotifier:
    channel = "redis_stream"

    def __init__(self, client: redis.Redis, stream: str, *, maxlen: int = DEFAULT_MAXLEN) -> None:
        self.client = client
        self.stream = stream
        self.maxlen = maxlen

    @classmethod
    def from_url(cls, url: str, stream: str, *, maxlen: int = DEFAULT_MAXLEN) -> RedisStreamNotifier:
        return cls(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5), stream, maxlen=maxlen)

    def fields(self, recommendation: RecommendationIssued) -> dict[str, bytes | str]:
        return {
            "recommendation_id": str(recommendation.recommendation_id),
            "athlete_id": recommendation.athlete_id,
            "kind": recommendation.kind,
            "rule_id": recommendation.rule_id,
            "decision_time": recommendation.decision_time.isoformat(),
            "payload": encode_json(recommendation),
        }

    def deliver(self, recommendation: RecommendationIssued) -> None:
        self.client.xadd(self.stream, self.fields(recommendation), maxlen=self.maxlen, approximate=True)
