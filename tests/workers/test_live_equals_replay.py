"""Live equals replay: a simulated cohort processed by Redis worker processes yields exactly the
recommendations (same ids, same content) and projections of an in-process replay of the same log."""

from __future__ import annotations

import time

import pytest

from engine import outbox, pipeline
from workers_support import SETTLE, Comparison, cohort, feed, log_now, wait_until

pytestmark = pytest.mark.redis


def test_a_cohort_processed_live_equals_a_replay_of_its_log(env, ingestor, ingest_store, clock, receiver,
                                                             start_workers):
    """Same recommendation ids and content, same projection states, as folding the log from scratch."""
    start_workers(env, threads=3)
    began = time.monotonic()
    events = feed(ingestor, clock, cohort(athletes=24, weeks=3, seed=11))
    expected = Comparison(ingest_store, log_now(ingest_store) - SETTLE)

    wait_until(lambda: not list(pipeline.lagging_athletes(ingest_store)), 60, "every event projected")
    wait_until(lambda: not expected.mismatches(), 60, "live state and recommendations equal the replay",
               interval=0.25)
    ids = expected.recommendation_ids()
    wait_until(lambda: ids <= receiver.delivered(), 60, "every recommendation delivered")
    wait_until(lambda: not list(outbox.lagging_outboxes(ingest_store, ["log", "webhook", "redis_stream"])), 30,
               "every outbox at its head")
    boundaries = sum(1 for athlete_id, (_, recs) in expected.expected.items()
                     for r in recs if r.decision_time not in recorded_times(ingest_store, athlete_id))
    assert boundaries, "some recommendations come from day boundaries (ticks), not only from events"
    print(f"\nlive == replay: {len(expected.expected)} athletes, {events} events, {len(ids)} recommendations "
          f"({boundaries} at day boundaries) in {time.monotonic() - began:.1f}s")


def recorded_times(store, athlete_id: str) -> set:
    return {e.recorded_at for e in store.read_stream(athlete_id)}
