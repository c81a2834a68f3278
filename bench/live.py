"""The live pipeline on Redis workers: ingest -> wake-up on Redis -> dramatiq worker processes
(projector: fold + policy + recommendations + checkpoint) on the same SQLite store.

* ``latency``: submissions paced at ``rate`` events/s (open loop); for each append, the time from
  ``Ingestor.append`` returning to the athlete's projection checkpoint reaching the appended version
  (the projector stores recommendations and the checkpoint in one transaction, so that is
  "recommendation stored"). A poller thread reads the narrow checkpoint table every ``poll_ms``
  (default 5 ms; latencies carry +-poll_ms/2); its own CPU time is measured and left out of the
  per-CPU-second figures.
* ``sustained``: submissions appended as fast as one ingest thread can (per-submission batches),
  then the time until every checkpoint reaches its stream head: events processed per second.

Every figure is also given per CPU-second: events divided by the CPU time the ingest process
(less the poller), the worker processes and Redis spent during the run.

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
    """``python -m dramatiq workers.actors`` on Redis, as `strideline worker` runs it: one group of
    ``processes``, or with ``shards`` one single-process group per projector shard (each consuming
    ``projector.<k>``, the notifier and the sweeper queues: an athlete's wake-ups reach one process)."""

    def __init__(self, store_path: Path, redis_url: str, processes: int, threads: int, shards: int = 0) -> None:
        import redis
        redis.Redis.from_url(redis_url).flushdb()
        env = dict(os.environ, STRIDELINE_REDIS_URL=redis_url,
                   STRIDELINE_STORE_URL=f"sqlite:///{store_path}", STRIDELINE_LOG_LEVEL="WARNING",
                   STRIDELINE_SWEEP_INTERVAL_MS="600000", STRIDELINE_TICK_INTERVAL_MS="600000",
                   STRIDELINE_PROJECTOR_SHARDS=str(shards))
        self.log = open(Path(store_path).with_suffix(".workers.log"), "w")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "dramatiq", "workers.actors", "--threads", str(threads)]
        groups = [command + ["--processes", str(processes)]] if not shards else [
            command + ["--processes", "1", "--queues", f"projector.{k}", "notify", "sweeper"] for k in range(shards)]
        self.procs = [subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
                      for argv in groups]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
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
        self.cpu_s = 0.0
        """CPU seconds the poller itself used (left out of the per-CPU-second figures)."""

    def expect(self, athlete: str, version: int, at: float) -> None:
        with self.lock:
            self.pending[athlete].append((version, at))

    def run(self) -> None:
        (narrow,) = self.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'checkpoints'").fetchone()
        query = (f"SELECT athlete, checkpoint FROM {'checkpoints' if narrow else 'projections'} "
                 "WHERE name = 'athlete'")  # the narrow table never walks a state blob's pages
        while not self.stopping.is_set():
            began = time.thread_time()
            rows = self.conn.execute(query).fetchall()
            now = time.perf_counter()
            with self.lock:
                for athlete, checkpoint in rows:
                    self.checkpoints[athlete] = checkpoint
                    queue = self.pending.get(athlete)
                    while queue and queue[0][0] <= checkpoint:
                        self.latencies.append(now - queue.popleft()[1])
            self.cpu_s += time.thread_time() - began
            self.stopping.wait(self.poll)

    def outstanding(self) -> int:
        with self.lock:
            return sum(len(q) for q in self.pending.values())


def _process_cpu_s(pid: int) -> float:
    """user + system CPU seconds of ``pid`` and of its live children (the worker processes)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _redis_cpu_s(url: str) -> float:
    import redis
    info = redis.Redis.from_url(url).info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


class CpuMeter:
    """CPU seconds spent by ingest (this process, less the poller), the workers and Redis."""

    def __init__(self, workers_pids: list[int], redis_url: str, checkpoints: Checkpoints) -> None:
        self.workers_pids, self.redis_url, self.checkpoints = workers_pids, redis_url, checkpoints
        self.start = self._sample()

    def _sample(self) -> dict[str, float]:
        own = os.times()
        return {"ingest": own.user + own.system - self.checkpoints.cpu_s,
                "workers": sum(_process_cpu_s(pid) for pid in self.workers_pids),
                "redis": _redis_cpu_s(self.redis_url)}

    def spent(self) -> dict[str, float]:
        end = self._sample()
        out = {k: round(end[k] - self.start[k], 2) for k in end}
        out["total"] = round(sum(out.values()), 2)
        return out


def _runtime(store_path: Path, redis_url: str, group_commit: bool, shards: int = 0):
    from engine.ingest import Ingestor
    from engine.store.sqlite import SQLiteEventStore
    from workers.wakeup import make_waker

    store = SQLiteEventStore(store_path, group_commit=group_commit)
    waker = make_waker(redis_url)
    waker.projector_shards = shards
    return store, Ingestor(store, wake=waker)


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
        processes: int = 2, threads: int = 4, redis_url: str = DEFAULT_REDIS, poll_ms: float = 5.0,
        group_commit: bool = False, ingest_threads: int = 16, shards: int = 0, log=print) -> dict:
    store_path = out / f"live-{mode}.sqlite3"
    remove_sqlite(store_path)
    store, ingest = _runtime(store_path, redis_url, group_commit, shards)
    workers = Workers(store_path, redis_url, processes, threads, shards)
    checkpoints = Checkpoints(store_path, poll_ms)
    checkpoints.start()
    try:
        _wait_ready(store_path, ingest, checkpoints)
        checkpoints.latencies.clear()
        submissions = simulate_cohort(athletes=athletes, weeks=weeks, seed=3, start=START)
        cpu = CpuMeter([proc.pid for proc in workers.procs], redis_url, checkpoints)
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
        spent = cpu.spent()
        lat = checkpoints.latencies
        return {"mode": mode, "offered_events_per_s": rate if mode == "latency" else None,
                "events": sent, "ingest_s": round(ingest_s, 2),
                "ingested_events_per_s": round(sent / ingest_s),
                "processed_s": round(done_s, 2), "processed_events_per_s": round(sent / done_s),
                "appends": len(lat), "unresolved": checkpoints.outstanding(),
                "p50_ms": round(_percentile(lat, 0.5) * 1000, 1),
                "p99_ms": round(_percentile(lat, 0.99) * 1000, 1),
                "max_ms": round(max(lat, default=float("nan")) * 1000, 1),
                "cpu_s": spent, "events_per_cpu_s": round(sent / spent["total"]) if spent["total"] else None,
                "poller_cpu_s": round(checkpoints.cpu_s, 2),
                "processes": processes if not shards else shards, "shards": shards, "threads": threads,
                "poll_ms": poll_ms,
                "ingest_clients": 1 if mode == "latency" else ingest_threads, "group_commit": group_commit}
    finally:
        checkpoints.stopping.set()
        checkpoints.join()
        workers.stop()
        store.close()


# -- the queue's own cost: dramatiq's Redis broker against a Redis Streams consumer ---------------


def queue_cost(redis_url: str = DEFAULT_REDIS, messages: int = 20_000, paced: int = 300,
               rate: float = 100.0, threads: tuple[int, ...] = (1, 4, 8), prefetch: int = 64) -> dict:
    """Per-message cost of the queue alone, no-op handlers, one consumer on this machine: enqueue
    (one round trip per message, as a wake-up is sent), drain a backlog (messages/s and CPU µs per
    message, the process's and Redis's), and the latency from send to handler at ``rate`` messages/s
    (an idle-ish queue: dramatiq's consumer polls an empty queue with a growing sleep, a stream
    consumer blocks in XREADGROUP and is woken by the XADD). dramatiq runs with each number of
    worker ``threads`` (it prefetches twice that many, and its consumer sleeps 5 ms and more while
    that many are unacknowledged), and with 4 threads and ``prefetch``; the stream consumer is one thread."""
    out = {f"dramatiq_{n}_threads": _dramatiq_cost(redis_url, messages, paced, rate, n) for n in threads}
    out[f"dramatiq_4_threads_prefetch_{prefetch}"] = _dramatiq_cost(redis_url, messages, paced, rate, 4, prefetch)
    out["streams"] = _streams_cost(redis_url, messages, paced, rate)
    return out


class _Phase:
    """Wall time and CPU (this process, Redis) of one phase of the queue-cost run."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        own = os.times()
        self.began, self.cpu, self.redis = time.perf_counter(), own.user + own.system, _redis_cpu_s(redis_url)

    def done(self, count: int) -> dict:
        own = os.times()
        wall = time.perf_counter() - self.began
        cpu = own.user + own.system - self.cpu
        redis_cpu = _redis_cpu_s(self.redis_url) - self.redis
        return {"per_s": round(count / wall), "us_per_message": round(wall / count * 1e6, 1),
                "process_cpu_us": round(cpu / count * 1e6, 1), "redis_cpu_us": round(redis_cpu / count * 1e6, 1)}


def _latency(latencies: list[float]) -> dict:
    return {"p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
            "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2)}


def _dramatiq_cost(redis_url: str, messages: int, paced: int, rate: float, threads: int,
                   prefetch: int = 0) -> dict:
    import dramatiq
    import redis
    from dramatiq.brokers.redis import RedisBroker

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    broker = RedisBroker(client=client, namespace="bench-noop")
    done = threading.Semaphore(0)
    latencies: list[float] = []

    @dramatiq.actor(broker=broker, queue_name="noop", max_retries=0)
    def noop(athlete_id: str, sent: float) -> None:
        if sent:
            latencies.append(time.perf_counter() - sent)
        done.release()

    phase = _Phase(redis_url)
    for i in range(messages):
        noop.send(f"ath-{i % 300}", 0.0)
    out = {"enqueue": phase.done(messages)}
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=1000)
    worker.queue_prefetch = prefetch or worker.queue_prefetch
    phase = _Phase(redis_url)
    worker.start()
    for _ in range(messages):
        done.acquire()
    out["drain"] = phase.done(messages)
    for i in range(paced):
        noop.send(f"ath-{i % 300}", time.perf_counter())
        time.sleep(1 / rate)
    for _ in range(paced):
        done.acquire()
    out[f"latency_at_{rate:g}_per_s"] = _latency(latencies)
    worker.stop()
    broker.close()
    return out


def _streams_cost(redis_url: str, messages: int, paced: int, rate: float) -> dict:
    import json

    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    stream, group = "bench:noop", "workers"
    client.xgroup_create(stream, group, id="0", mkstream=True)
    latencies: list[float] = []
    handled = [0]
    stop = threading.Event()

    def consume() -> None:  # one consumer: read up to 100, handle each, acknowledge them in one call
        reader = redis.Redis.from_url(redis_url)
        while not stop.is_set():
            reply = reader.xreadgroup(group, "c1", {stream: ">"}, count=100, block=1000)
            for _, entries in reply:
                for _, fields in entries:
                    athlete_id, sent = json.loads(fields[b"m"])
                    if sent:
                        latencies.append(time.perf_counter() - sent)
                handled[0] += len(entries)
                reader.xack(stream, group, *[entry_id for entry_id, _ in entries])
        reader.close()

    phase = _Phase(redis_url)
    for i in range(messages):
        client.xadd(stream, {"m": json.dumps([f"ath-{i % 300}", 0.0])})
    out = {"enqueue": phase.done(messages)}
    phase = _Phase(redis_url)
    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    while handled[0] < messages:
        time.sleep(0.001)
    out["drain"] = phase.done(messages)
    for i in range(paced):
        client.xadd(stream, {"m": json.dumps([f"ath-{i % 300}", time.perf_counter()])})
        time.sleep(1 / rate)
    while handled[0] < messages + paced:
        time.sleep(0.001)
    out[f"latency_at_{rate:g}_per_s"] = _latency(latencies)
    stop.set()
    consumer.join()
    client.flushdb()
    client.close()
    return out


# -- the projector's own cost per wake-up, in one process: state reloaded vs kept in memory --------


def wake_up_cost(out: Path, athletes: int = 30, weeks: int = 16) -> dict:
    """Each submission appended, then projected at once (one wake-up per submission, as live), no
    broker: the engine's cost of a wake-up with the state loaded, decoded, encoded and saved every
    time (``resident=None``), and with the state kept in memory (snapshot every 64 events)."""
    import datetime as dt

    from engine.clock import ManualClock
    from engine.ingest import Ingestor
    from engine.pipeline import ResidentStates, project_athlete
    from engine.policies.base import load_policy
    from engine.runtime import DEFAULT_POLICY
    from engine.store.sqlite import SQLiteEventStore

    submissions = list(simulate_cohort(athletes=athletes, weeks=weeks, seed=3, start=START))
    policy = load_policy(DEFAULT_POLICY)
    results = {}
    for name, resident in (("reload", None), ("resident", ResidentStates(snapshot_every=64, snapshot_after_s=1e9))):
        path = out / f"wake-up-cost-{name}.sqlite3"
        remove_sqlite(path)
        clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
        store = SQLiteEventStore(path, clock=clock)  # synchronous=FULL, as the workers run it
        ingest = Ingestor(store, clock=clock)
        wall = cpu = 0.0
        events = 0
        for sub in submissions:
            clock.set(max(clock.now(), sub.send_at))
            ingest.append(sub.athlete_id, sub.events)
            began, began_cpu = time.perf_counter(), time.process_time()
            project_athlete(store, sub.athlete_id, policy, resident=resident)
            wall += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
            events += len(sub.events)
        store.close()
        results[name] = {"wake_ups": len(submissions), "events": events,
                         "us_per_wake_up": round(wall / len(submissions) * 1e6),
                         "cpu_us_per_event": round(cpu / events * 1e6),
                         "events_per_cpu_s": round(events / cpu)}
        if resident is not None:
            results[name]["hits"], results[name]["misses"] = resident.hits, resident.misses
    return results


if __name__ == "__main__":  # python -m bench.live queue-cost [redis url] | wake-up-cost
    import json as _json
    if sys.argv[1:2] == ["queue-cost"]:
        print(_json.dumps(queue_cost(*(sys.argv[2:3] or [DEFAULT_REDIS])), indent=2))
    elif sys.argv[1:2] == ["wake-up-cost"]:
        from bench.data import OUT
        OUT.mkdir(parents=True, exist_ok=True)
        print(_json.dumps(wake_up_cost(OUT), indent=2))
    else:
        sys.exit("usage: python -m bench.live queue-cost [redis url] | wake-up-cost")
