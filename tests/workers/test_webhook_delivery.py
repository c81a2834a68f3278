"""Webhook failures against real worker processes: 500 and timeouts are retried with backoff, a 410
is not; a recommendation given up on is dead-lettered and delivery carries on after it."""

from __future__ import annotations

import json

import pytest
import redis

from engine.notifiers import delivery_id
from workers import keys
from workers_support import SETTLE, Comparison, feed_diaries, log_now, wait_until

pytestmark = pytest.mark.redis
MAX_RETRIES = 3  # STRIDELINE_NOTIFY_MAX_RETRIES in the test workers' environment


def one_athlete(ingestor, ingest_store, clock) -> list[str]:
    """Feed one athlete's diary; its delivery ids (idempotency keys) in stream order (at least two)."""
    feed_diaries(ingestor, clock, ["ath-1"], days=14)
    _, recs = Comparison(ingest_store, log_now(ingest_store) - SETTLE).expected["ath-1"]
    assert len(recs) >= 2
    return [str(delivery_id(r)) for r in recs]


def is_target(body: dict, target: str) -> bool:
    """The POST of the advice ``target`` itself (a withdrawal of it names it too, under its own key)."""
    return body["recommendation_id"] == target and body.get("type") != "recommendation.withdrawn"


def dead_letters(redis_url: str) -> list[dict]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    return [fields for _, fields in client.xrange(keys.DEAD_LETTERS)]


def test_a_500_is_retried_with_backoff_until_delivered(env, ingestor, ingest_store, clock, receiver,
                                                        start_workers, redis_db):
    """A receiver answering 500 twice gets the same recommendation a third time, then it is delivered."""
    start_workers(env)
    ids = one_athlete(ingestor, ingest_store, clock)
    target = ids[0]
    receiver.respond = lambda body, attempt: (500, 0) if is_target(body, target) and attempt <= 2 else (200, 0)
    wait_until(lambda: set(ids) <= receiver.delivered(), 30, "every recommendation delivered")
    assert receiver.tries(target) == 3
    assert dead_letters(redis_db) == []


def test_a_timeout_is_retried(env, ingestor, ingest_store, clock, receiver, start_workers, redis_db):
    """A receiver slower than the webhook timeout gets the recommendation again."""
    start_workers(env)
    ids = one_athlete(ingestor, ingest_store, clock)
    target = ids[0]
    receiver.respond = (lambda body, attempt: (599, 1.5) if is_target(body, target) and attempt == 1
                        else (200, 0))
    wait_until(lambda: set(ids) <= receiver.delivered(), 30, "every recommendation delivered")
    assert receiver.tries(target) == 2
    assert dead_letters(redis_db) == []


def test_a_410_is_not_retried_and_is_dead_lettered(env, ingestor, ingest_store, clock, receiver,
                                                   start_workers, redis_db):
    """A 410 is tried once, recorded as a dead letter, and the next recommendations still go out."""
    start_workers(env)
    ids = one_athlete(ingestor, ingest_store, clock)
    target = ids[0]
    receiver.respond = lambda body, attempt: (410, 0) if is_target(body, target) else (200, 0)
    wait_until(lambda: set(ids[1:]) <= receiver.delivered(), 30, "the later recommendations delivered")
    assert receiver.tries(target) == 1
    [letter] = dead_letters(redis_db)
    assert (letter["actor"], letter["recommendation_id"], letter["attempts"]) == ("notify", target, "1")
    assert json.loads(letter["args"]) == ["webhook", "ath-1"]
    client = redis.Redis.from_url(redis_db)
    wait_until(lambda: client.zcard(keys.dead_letter_queue(keys.NOTIFY_QUEUE)) == 1, 10,
               "the message in dramatiq's dead-letter queue")


def test_exhausted_retries_end_in_a_dead_letter(env, ingestor, ingest_store, clock, receiver,
                                                start_workers, redis_db):
    """A recommendation that always gets a 500 is tried 1 + max_retries times, then dead-lettered."""
    start_workers(env)
    ids = one_athlete(ingestor, ingest_store, clock)
    target = ids[0]
    receiver.respond = lambda body, attempt: (500, 0) if is_target(body, target) else (200, 0)
    wait_until(lambda: set(ids[1:]) <= receiver.delivered(), 30, "the later recommendations delivered")
    assert receiver.tries(target) == 1 + MAX_RETRIES
    [letter] = dead_letters(redis_db)
    assert (letter["recommendation_id"], letter["cause"], letter["attempts"]) == (target, "WebhookFailed", "4")
