"""Scale-out on PostgreSQL: four writer processes and two worker processes on one store lose and skip
nothing, and what the workers computed equals a from-scratch replay of the log."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import Counter

import psycopg
import pytest

from engine import pipeline
from engine.store.factory import open_store
from events.envelope import is_recommendation_stream
from scaleout_support import all_submissions, lockstep_points, write
from workers_support import SETTLE, Comparison, stored_recommendation_ids, wait_until, worker_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ATHLETES, WEEKS, SEED = 500, 2, 7
WRITERS, WORKERS = 4, 2


def test_four_writers_and_two_workers_on_postgres_lose_nothing(pg_schema_url, redis_db, tmp_path,
                                                               start_workers):
    """Every event stored once at gap-free positions, projections and recommendations equal a replay."""
    store = open_store(pg_schema_url, migrate=True)
    submissions = all_submissions(ATHLETES, WEEKS, SEED)
    points = lockstep_points(submissions)
    env = worker_env(redis_db, tmp_path / "unused.sqlite3", None, STRIDELINE_STORE_URL=pg_schema_url,
                     STRIDELINE_TICK_INTERVAL_MS="3000")
    for _ in range(WORKERS):
        start_workers(env, processes=1, threads=3)

    ctx = mp.get_context("spawn")
    start, lockstep, results = ctx.Barrier(WRITERS + 1), ctx.Barrier(WRITERS), ctx.Queue()
    writers = [ctx.Process(target=write, args=(k, WRITERS, ATHLETES, WEEKS, SEED, pg_schema_url, redis_db,
                                               points, start, lockstep, results), daemon=True)
               for k in range(WRITERS)]
    for w in writers:
        w.start()
    try:
        start.wait(120)
        began = time.monotonic()
        figures = [results.get(timeout=600) for _ in writers]
        ingested = time.monotonic()
    finally:
        for w in writers:
            w.join(30)
    assert [w.exitcode for w in writers] == [0] * WRITERS

    wait_until(lambda: not list(pipeline.lagging_athletes(store)), 180, "every event projected", interval=0.25)
    horizon = max(s.send_at for s in submissions) - SETTLE
    expected = Comparison(store, horizon)
    wait_until(lambda: not expected.mismatches(), 180,
               "projections and recommendations equal a from-scratch replay", interval=0.5)
    caught_up = time.monotonic()

    submitted = [e.event_id for s in submissions for e in s.events]
    with psycopg.connect(pg_schema_url) as conn:
        rows = conn.execute("SELECT event_id, stream, version, position FROM events ORDER BY position").fetchall()
        (counter,) = conn.execute("SELECT position FROM log_head").fetchone()
    athlete_rows = [r for r in rows if not is_recommendation_stream(r[1])]
    stored = Counter(r[0] for r in athlete_rows)
    assert set(stored) == set(submitted) and len(athlete_rows) == len(submitted) == len(set(submitted)), \
        "every submitted event stored exactly once"
    assert [r[3] for r in rows] == list(range(1, len(rows) + 1)) and counter == len(rows), \
        "global positions are 1..N with no gap"
    versions: dict[str, list[int]] = {}
    for _, stream, version, _ in rows:
        versions.setdefault(stream, []).append(version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values()), "stream versions are 1..n"
    assert len([s for s in versions if not is_recommendation_stream(s)]) == ATHLETES
    recs = stored_recommendation_ids(store)
    assert set(recs) == expected.recommendation_ids() and max(recs.values()) == 1, \
        "each recommendation stored exactly once"
    store.close()

    events = sum(f["events"] for f in figures)
    print(f"\npostgres scale-out: {ATHLETES} athletes x {WEEKS} weeks, {events} events in {len(submissions)} "
          f"submissions, {len(recs)} recommendations ({len(rows)} log positions); {WRITERS} writer processes, "
          f"{WORKERS} worker processes x 3 threads; ingest {ingested - began:.1f}s "
          f"({events / (ingested - began):.0f} events/s, {len(points)} lockstep points, barrier wait "
          f"{max(f['barrier_wait_s'] for f in figures):.1f}s max per writer, writers' CPU "
          f"{sum(f['cpu_s'] for f in figures):.1f}s); caught up "
          f"{caught_up - ingested:.1f}s after ingest; wake-ups lost {sum(f['wake_ups_lost'] for f in figures)}")
