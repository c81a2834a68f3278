"""kill -9 of a worker process in the middle of a run: nothing is lost, nothing is stored twice."""

from __future__ import annotations

import time

import pytest

from workers_support import cohort, feed, stored_recommendation_ids, wait_until_caught_up

pytestmark = pytest.mark.redis
CHANNELS = ["log", "webhook", "redis_stream"]


def test_a_worker_killed_mid_run_loses_nothing(env, ingestor, ingest_store, clock, receiver, start_workers):
    """After a SIGKILL mid-run: every event projected, projections equal a from-scratch rebuild, no
    recommendation stored twice, every recommendation POSTed to the webhook at least once."""
    receiver.respond = lambda body, attempt: (200, 0.03)  # a receiver taking 30 ms: kills land mid-POST
    victim = start_workers(env, threads=2)
    start_workers(env, threads=2)
    submissions = cohort(athletes=200, weeks=2, seed=5)
    killed: list[tuple[int, float, int]] = []

    def kill_midway(index: int) -> None:
        if index == len(submissions) // 2:
            killed.append((victim.kill9_one(), time.monotonic(), len(receiver.delivered())))

    began = time.monotonic()
    events = feed(ingestor, clock, submissions, on_progress=kill_midway)
    ingested = time.monotonic()
    victim.wait_exit()  # dramatiq's main process stops when one of its workers dies...
    start_workers(env, threads=2)  # ...and the supervisor (systemd, k8s) starts a new one

    expected, ids = wait_until_caught_up(ingest_store, receiver, CHANNELS)
    done = time.monotonic()

    stored = stored_recommendation_ids(ingest_store)
    assert set(stored) == ids and max(stored.values()) == 1, "each recommendation stored exactly once"
    assert receiver.all_valid()
    _, killed_at, delivered_before = killed[0]
    posts = len(receiver.attempts)
    print(f"\nkill -9: {len(expected.expected)} athletes, {events} events, {len(ids)} recommendations; "
          f"killed a worker after {len(submissions) // 2} of {len(submissions)} submissions "
          f"({delivered_before} recommendations delivered by then); ingest {ingested - began:.1f}s, "
          f"all caught up {done - killed_at:.1f}s after the kill ({done - ingested:.1f}s after ingest ended); "
          f"{posts} webhook POSTs for {len(ids)} recommendations ({posts - len(ids)} redeliveries)")
