"""A Redis outage during ingest: appends never fail, and once Redis is back (empty: it had no
persistence) the sweeper and the workers catch up with nothing lost."""

from __future__ import annotations

import time

import pytest

from engine.ingest import Ingestor
from workers.wakeup import make_waker
from workers_support import (
    RedisServer,
    cohort,
    feed,
    stored_recommendation_ids,
    wait_until,
    wait_until_caught_up,
    worker_env,
)

pytestmark = pytest.mark.redis
CHANNELS = ["log", "webhook", "redis_stream"]


@pytest.fixture
def own_redis(redis_url, tmp_path):
    """A redis-server of this test's own (never the machine's main one), killed at the end."""
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


def test_appends_survive_a_redis_outage_and_workers_catch_up(own_redis, ingest_store, store_path, clock,
                                                            receiver, start_workers):
    """Every append during the outage succeeds; afterwards every event is projected, every
    recommendation stored once and delivered."""
    env = worker_env(own_redis.url, store_path, receiver.url)
    workers = start_workers(env, threads=2)
    waker = make_waker(own_redis.url)
    ingestor = Ingestor(ingest_store, clock=clock, wake=waker)
    submissions = cohort(athletes=80, weeks=2, seed=9)
    quarter = len(submissions) // 4

    feed(ingestor, clock, submissions[:quarter])
    own_redis.kill()
    down = time.monotonic()
    during = feed(ingestor, clock, submissions[quarter:3 * quarter])  # raises if any append fails
    lost = waker.lost
    wait_until(lambda: "connection error" in workers.log_path.read_text(), 30,
               "the workers to notice the outage")
    own_redis.start()
    back = time.monotonic()
    feed(ingestor, clock, submissions[3 * quarter:])

    expected, ids = wait_until_caught_up(ingest_store, receiver, CHANNELS)
    caught_up = time.monotonic()

    stored = stored_recommendation_ids(ingest_store)
    assert set(stored) == ids and max(stored.values()) == 1
    assert lost > 0, "wake-ups failed during the outage (and were swallowed)"
    events = sum(len(s.events) for s in submissions)
    print(f"\nredis outage: {len(expected.expected)} athletes, {events} events ({during} appended while Redis "
          f"was down for {back - down:.1f}s, {lost} wake-ups lost), {len(ids)} recommendations; "
          f"caught up {caught_up - back:.1f}s after Redis returned")
