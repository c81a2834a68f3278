"""End to end on Redis: ingest -> wake-up -> worker processes -> projector -> policy -> notifiers."""

from __future__ import annotations

import pytest
import redis

from engine import pipeline
from workers import keys
from workers_support import SETTLE, Comparison, feed_diaries, log_now, stream_ids, wait_until

pytestmark = pytest.mark.redis


def test_appended_events_reach_the_webhook_and_the_redis_stream(env, ingestor, ingest_store, clock, receiver,
                                                                 start_workers, redis_db):
    """Appended events become recommendations POSTed, signed, to the webhook and added to the stream."""
    start_workers(env)
    feed_diaries(ingestor, clock, ["ath-1", "ath-2"], days=4)
    expected = Comparison(ingest_store, log_now(ingest_store) - SETTLE)
    ids = expected.recommendation_ids()
    assert ids, "the diary should produce recommendations"
    client = redis.Redis.from_url(redis_db)

    wait_until(lambda: ids <= receiver.delivered(), 30, "every recommendation POSTed to the webhook")
    wait_until(lambda: ids <= set(stream_ids(client, keys.RECOMMENDATIONS_STREAM)), 10,
               "every recommendation in the Redis stream")
    assert receiver.all_valid(), "every request carries a valid HMAC-SHA256 signature and timestamp"
    assert expected.mismatches() == []
    assert list(pipeline.lagging_athletes(ingest_store)) == []
