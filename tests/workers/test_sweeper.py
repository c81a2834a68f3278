"""The sweeper on real worker processes: it heals lost wake-ups, and one chain of delayed messages
runs however many worker processes keep it alive."""

from __future__ import annotations

import pytest
import redis

from engine import outbox, pipeline
from workers import keys
from workers_support import SETTLE, Comparison, feed_diaries, log_now, wait_until

pytestmark = pytest.mark.redis


def test_events_whose_wake_up_never_arrived_are_projected_and_delivered(env, ingestor, ingest_store, clock,
                                                                        receiver, start_workers):
    """With every wake-up lost, the sweeper alone brings projections and deliveries up to date."""
    ingestor.wake = lambda athlete_id: None
    feed_diaries(ingestor, clock, ["ath-1", "ath-2", "ath-3"], days=14)
    start_workers(env)
    expected = Comparison(ingest_store, log_now(ingest_store) - SETTLE)
    wait_until(lambda: not expected.mismatches(), 30, "projections healed by the sweeper", interval=0.2)
    wait_until(lambda: expected.recommendation_ids() <= receiver.delivered(), 30, "deliveries healed")
    wait_until(lambda: not list(outbox.lagging_outboxes(ingest_store, ["log", "webhook", "redis_stream"])), 30,
               "every channel's outbox at its head")
    assert not list(pipeline.lagging_athletes(ingest_store))


def test_two_worker_groups_keep_one_sweeper_chain(env, start_workers, redis_db):
    """Each group's keeper tries to start a chain; only one runs: one delayed link at any time."""
    start_workers(env)
    start_workers(env)
    client = redis.Redis.from_url(redis_db, decode_responses=True)
    delayed = f"{keys.DRAMATIQ_NAMESPACE}:{keys.SWEEPER_QUEUE}.DQ.msgs"
    seen: set[int] = set()

    def link() -> int:
        value = client.get(keys.SWEEPER_CHAIN)
        assert client.hlen(delayed) <= 1, "a second chain would leave a second delayed link"
        return int(value.rsplit(":", 1)[1]) if value else 0

    wait_until(lambda: seen.add(link()) or max(seen) >= 4, 30, "four links of the sweeper chain")
