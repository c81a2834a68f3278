"""Two worker processes racing on one athlete never corrupt its projection (compare-and-set)."""

from __future__ import annotations

import datetime as dt

import dramatiq
import pytest
import redis

from engine import pipeline
from workers import keys
from workers.broker import make_broker
from workers_support import SETTLE, Comparison, diary, enrolment, log_now, stored_recommendation_ids, wait_until

pytestmark = pytest.mark.redis
COPIES = 12  # duplicate wake-ups per burst, bypassing the coalescing, so workers collide
ROUNDS, DAYS_PER_ROUND = 8, 5


def test_workers_racing_on_one_athlete_end_at_the_from_scratch_state(env, ingestor, ingest_store, clock,
                                                                      start_workers, redis_db):
    """Many simultaneous projector and tick messages for one athlete across two worker processes:
    the saved projection equals a from-scratch fold and no recommendation is stored twice."""
    env = dict(env, STRIDELINE_LOG_LEVEL="INFO")
    groups = [start_workers(env, threads=3), start_workers(env, threads=3)]
    broker = make_broker(redis_url=redis_db, middleware=False)

    def burst() -> None:
        for actor in ["project"] * COPIES + ["tick"] * 2:
            broker.enqueue(dramatiq.Message(queue_name="projector", actor_name=actor, args=("ath-1",),
                                            kwargs={}, options={}))

    client = redis.Redis.from_url(redis_db)
    ingestor.wake = lambda athlete_id: None  # only the bursts below wake the workers
    ingestor.append("ath-1", enrolment(clock.now()))
    for day in range(ROUNDS * DAYS_PER_ROUND):
        clock.advance(dt.timedelta(days=1))
        ingestor.append("ath-1", diary(day, clock.now()))
        if day % DAYS_PER_ROUND == DAYS_PER_ROUND - 1:
            burst()
            wait_until(lambda: client.hlen(f"{keys.DRAMATIQ_NAMESPACE}:{keys.PROJECTOR_QUEUE}.msgs") == 0, 30,
                       "the burst processed")

    expected = Comparison(ingest_store, log_now(ingest_store) - SETTLE)
    wait_until(lambda: not expected.mismatches(), 60, "the projection equal to the from-scratch fold", interval=0.2)
    stored = stored_recommendation_ids(ingest_store)
    assert set(stored) == expected.recommendation_ids() and max(stored.values()) == 1
    assert list(pipeline.lagging_athletes(ingest_store)) == []
    races = sum(g.log_path.read_text().count("projection_raced") for g in groups)
    print(f"\nraces: {races} compare-and-set conflicts resolved by re-reading")
