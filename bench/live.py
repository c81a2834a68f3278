"""The live pipeline on Redis workers: ingest -> wake-up on Redis -> dramatiq worker processes
(projector: fold + policy + recommendations + checkpoint) on the same SQLite store.

* ``latency``: submissions paced at ``rate`` events/s (open loop); for each append, the time from
  ``Ingestor.append`` returning to the athlete's projection checkpoint reaching the appended version
  (the projector stores recommendations before it saves the checkpoint, so that is "recommendation
  stored"). A poller thread reads the checkpoints every ``poll_ms``: latencies carry +-poll_ms/2.
* ``sustained``: submissions appended as fast as one ingest thread can (per-submission batches),
  then the time until every checkpoint reaches its stream head: events processed per second.

Everything (ingest, 2 worker processes, Redis, SQLite) shares the machine's 2 cores. The bench uses
its own Redis database (default ``redis://127.0.0.1:6379/13``), flushed before each run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from bench.data import START, remove_sqlite
from engine.simulation import simulate_cohort

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS = os.environ.get("STRIDELINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def redis_available(url: str = DEFAULT_REDIS) -> bool:
    try:
        import redis
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


class Workers:
    """``python -m dramatiq workers.actors`` on Redis, as `strideline worker` runs it."""

    def __init__(self, store_path: Path, redis_url: str, processes: int, threads: int) -> None:
        import redis
        redis.Redis.from_url(redis_url).flushdb()
        env = dict(os.environ, STRIDELINE_REDIS_URL=redis_url,
                   STRIDELINE_STORE_URL=f"sqlite:///{store_path}", STRIDELINE_LOG_LEVEL="WARNING",
                   STRIDELINE_SWEEP_INTERVAL_MS="600000", STRIDELINE_TICK_INTERVAL_MS="600000")
        self.log = open(Path(store_path).with_suffix(".workers.log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", str(processes),
             "--threads", str(threads)], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Checkpoints(threading.Thread):
    """Polls the projection checkpoints; resolves each pending (athlete, version) when reached."""

    def __init__(self, store_path: Path, poll_ms: float) -> None:
        super().__init__(daemon=True)
        import sqlite3
        self.conn = sqlite3.connect(store_path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.poll = poll_ms / 1000
        self.pending: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.stopping = threading.Event()
        self.checkpoints: dict[str, int] = {}

    def expect(self, athlete: str, version: int, at: float) -> None:
        with self.lock:
            self.pending[athlete].append((version, at))

    def run(self) -> None:
        while not self.stopping.is_set():
            rows = self.conn.execute(
                "SELECT athlete, checkpoint FROM projections WHERE name = 'athlete'").fetchall()
            now = time.perf_counter()
            with self.lock:
                for athlete, checkpoint in rows:
                    self.checkpoints[athlete] = checkpoint
                    queue = self.pending.get(athlete)
                    while queue and queue[0][0] <= checkpoint:
                        self.latencies.append(now - queue.popleft()[1])
            self.stopping.wait(self.poll)

    def outstanding(self) -> int:
        with self.lock:
            return sum(len(q) for q in self.pending.values())


def _runtime(store_path: Path, redis_url: str, group_commit: bool):
    from engine.ingest import Ingestor
    from engine.store.sqlite import SQLiteEventStore
    from workers.wakeup import make_waker

    store = SQLiteEventStore(store_path, group_commit=group_commit)
    return store, Ingestor(store, wake=make_waker(redis_url))


def _wait_ready(store_path: Path, ingest, checkpoints: Checkpoints, timeout: float = 120) -> None:
    """A warm-up athlete's first event, processed: the workers are up."""
    from engine.simulation import simulate_athlete
    sub = next(simulate_athlete(99_999, 1, seed=7, start=START))
    result = ingest.append("warmup", sub.events)
    deadline = time.monotonic() + timeout
    while checkpoints.checkpoints.get("warmup", 0) < result.last_version:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers processed nothing in {timeout} s (see the workers log)")
        time.sleep(0.05)


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def run(out: Path, *, mode: str, athletes: int, weeks: int, rate: float, duration_s: float,
        processes: int = 2, threads: int = 4, redis_url: str = DEFAULT_REDIS, poll_ms: float = 1.0,
        group_commit: bool = False, ingest_threads: int = 16, log=print) -> dict:
    store_path = out / f"live-{mode}.sqlite3"
    remove_sqlite(store_path)
    store, ingest = _runtime(store_path, redis_url, group_commit)
    workers = Workers(store_path, redis_url, processes, threads)
    checkpoints = Checkpoints(store_path, poll_ms)
    checkpoints.start()
    try:
        _wait_ready(store_path, ingest, checkpoints)
        checkpoints.latencies.clear()
        submissions = simulate_cohort(athletes=athletes, weeks=weeks, seed=3, start=START)
        sent, began = 0, time.perf_counter()
        if mode == "latency":
            for sub in submissions:
                due = began + sent / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                result = ingest.append(sub.athlete_id, sub.events)
                checkpoints.expect(sub.athlete_id, result.last_version, time.perf_counter())
                sent += len(sub.events)
                if time.perf_counter() - began >= duration_s:
                    break
        else:  # as fast as ``ingest_threads`` concurrent clients can append (one lane per athlete)
            lanes: list[list] = [[] for _ in range(ingest_threads)]
            for sub in submissions:
                lanes[hash(sub.athlete_id) % ingest_threads].append(sub)
            counts = [0] * ingest_threads
            began = time.perf_counter()

            def lane(index: int) -> None:
                for sub in lanes[index]:
                    result = ingest.append(sub.athlete_id, sub.events)
                    checkpoints.expect(sub.athlete_id, result.last_version, time.perf_counter())
                    counts[index] += len(sub.events)
                    if time.perf_counter() - began >= duration_s:
                        return

            clients = [threading.Thread(target=lane, args=(i,)) for i in range(ingest_threads)]
            for t in clients:
                t.start()
            for t in clients:
                t.join()
            sent = sum(counts)
        ingest_s = time.perf_counter() - began
        deadline = time.monotonic() + 600
        while checkpoints.outstanding() and time.monotonic() < deadline:
            time.sleep(0.01)
        done_s = time.perf_counter() - began
        lat = checkpoints.latencies
        return {"mode": mode, "offered_events_per_s": rate if mode == "latency" else None,
                "events": sent, "ingest_s": round(ingest_s, 2),
                "ingested_events_per_s": round(sent / ingest_s),
                "processed_s": round(done_s, 2), "processed_events_per_s": round(sent / done_s),
                "appends": len(lat), "unresolved": checkpoints.outstanding(),
                "p50_ms": round(_percentile(lat, 0.5) * 1000, 1),
                "p99_ms": round(_percentile(lat, 0.99) * 1000, 1),
                "max_ms": round(max(lat, default=float("nan")) * 1000, 1),
                "processes": processes, "threads": threads, "poll_ms": poll_ms,
                "ingest_clients": 1 if mode == "latency" else ingest_threads, "group_commit": group_commit}
    finally:
        checkpoints.stopping.set()
        checkpoints.join()
        workers.stop()
        store.close()
