"""Writer processes for the scale-out test (a module of its own, so spawned children import it).

Writer ``k`` of ``n`` owns the athletes whose index is ``k`` modulo ``n`` (one writer per stream),
simulates exactly their submissions (athlete ``i`` of a cohort does not depend on the cohort size),
and appends them through its own ``Ingestor``: its own PostgreSQL store, its own ``ManualClock``
moved to each submission's send time, and a Redis waker.

**Lockstep at day boundaries.** The workers' clock is the log (``STRIDELINE_CLOCK=log``): "now" is
the newest ``recorded_at`` in the store, and day boundaries are evaluated up to now minus the settle
margin. Real writers share wall-clock time, so they never drift apart by more than that margin;
simulated writers running as fast as they can would drift by days, and a fast writer would then move
the log clock past a local midnight while a slow writer's athlete still had events before it (a tick
would evaluate that midnight too early, and live would differ from a replay for a reason no
deployment has). So the writers meet at a barrier at every local midnight of the cohort's time zones
(and before the last send time): everything sent before an instant is committed before anyone
appends at or after it. Between barriers they run freely and concurrently.
"""

from __future__ import annotations

import datetime as dt
import heapq
import time
from operator import attrgetter

from engine.clock import ManualClock
from engine.ingest import Ingestor
from engine.simulation import simulate_athlete, simulate_cohort
from engine.simulation.profile import ZONES
from engine.store.factory import open_store
from projections.calendar import midnights_between

BARRIER_TIMEOUT_S = 120


def submissions_of(writer: int, writers: int, athletes: int, weeks: int, seed: int):
    """The submissions of writer ``writer``'s athletes, merged in send order."""
    mine = [simulate_athlete(i, weeks, seed) for i in range(writer, athletes, writers)]
    return heapq.merge(*mine, key=attrgetter("send_at"))


def all_submissions(athletes: int, weeks: int, seed: int) -> list:
    return list(simulate_cohort(athletes=athletes, weeks=weeks, seed=seed))


def lockstep_points(submissions) -> list[dt.datetime]:
    """Every local midnight (of every zone) within the cohort's send times, and the last send time."""
    first, last = submissions[0].send_at, submissions[-1].send_at
    points = {m for zone in ZONES for m in midnights_between(first, last, zone)}
    points.add(last)
    return sorted(points)


def write(writer: int, writers: int, athletes: int, weeks: int, seed: int, store_url: str, redis_url: str,
          points: list[dt.datetime], start, lockstep, results) -> None:
    """One writer process: wait for the start, append every own submission, report figures."""
    from workers.wakeup import make_waker

    clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    store = open_store(store_url, clock)
    waker = make_waker(redis_url)
    ingestor = Ingestor(store, clock=clock, wake=waker)
    subs = list(submissions_of(writer, writers, athletes, weeks, seed))
    start.wait(BARRIER_TIMEOUT_S)
    began, cpu = time.perf_counter(), time.process_time()
    events, waited, next_point = 0, 0.0, 0
    try:
        for sub in subs:
            while next_point < len(points) and sub.send_at >= points[next_point]:
                t = time.perf_counter()
                lockstep.wait(BARRIER_TIMEOUT_S)
                waited += time.perf_counter() - t
                next_point += 1
            clock.set(sub.send_at)
            ingestor.append(sub.athlete_id, sub.events)
            events += len(sub.events)
        while next_point < len(points):
            lockstep.wait(BARRIER_TIMEOUT_S)
            next_point += 1
    except BaseException:
        lockstep.abort()  # the other writers fail fast instead of waiting for the timeout
        raise
    finally:
        store.close()
    results.put({"writer": writer, "submissions": len(subs), "events": events,
                 "seconds": time.perf_counter() - began, "cpu_s": time.process_time() - cpu,
                 "barrier_wait_s": waited, "wake_ups_lost": waker.lost})
