"""The live pipeline on Redis workers: ingest -> wake-up on Redis -> dramatiq worker processes
(projector: fold + policy + recommendations + checkpoint) on the same SQLite store.

* ``latency``: submissions offered at ``rate`` events/s by several paced clients (open loop, each
  pacing its share, one batch per submission as the app sends it); for each append, the time from
  ``Ingestor.append`` returning to the athlete's projection checkpoint reaching the appended version
  (the projector stores recommendations and the checkpoint in one transaction, so that is
  "recommendation stored"). A poller thread reads the narrow checkpoint table every ``poll_ms``
  (default 5 ms; latencies carry +-poll_ms/2); its own CPU time is measured and left out of the
  per-CPU-second figures.
* ``sustained``: submissions appended as fast as 16 clients can (per-submission batches), then
  the time until every checkpoint reaches its stream head: events processed per second.
* ``ingest``: as ``sustained`` with no workers running (the wake-ups are still sent): what the
  ingest side alone appends, and its CPU per event.

Every figure is also given per CPU-second: events divided by the CPU time the ingest process, the
worker processes and Redis spent during the run. The harness's own CPU is measured and left out:
the poller's, the clients' outside ``append`` (pacing, bookkeeping), and the simulator's (the
submissions are generated before the clock starts).

Everything (ingest, 2 worker processes, Redis, SQLite) shares the machine's 2 cores. The bench uses
its own Redis database (default ``redis://127.0.0.1:6379/13``; ``python -m bench.live`` uses db 5), flushed before each run.
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
    ``projector.<k>``, the notifier and the sweeper queues: an athlete's wake-ups reach one process).
    ``STRIDELINE_BENCH_WORKERS_ROOT`` runs the workers from another checkout (a before/after pair
    with the same ingest, store format and harness)."""

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
        root = os.environ.get("STRIDELINE_BENCH_WORKERS_ROOT") or ROOT  # another checkout: before/after
        self.procs = [subprocess.Popen(argv, cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
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
        self.commands_start = self.redis_commands()

    def _sample(self) -> dict[str, float]:
        own = os.times()
        return {"ingest": own.user + own.system - self.checkpoints.cpu_s,
                "workers": sum(_process_cpu_s(pid) for pid in self.workers_pids),
                "redis": _redis_cpu_s(self.redis_url)}

    def redis_commands(self) -> int:
        """Commands Redis has processed (all clients; a script or a pipeline counts each command)."""
        import redis
        return int(redis.Redis.from_url(self.redis_url).info("stats")["total_commands_processed"])

    def spent(self, harness_cpu_s: float = 0.0) -> dict[str, float]:
        """CPU seconds since the start; ``harness_cpu_s`` (the clients' own) is taken off ingest."""
        end = self._sample()
        out = {k: round(end[k] - self.start[k], 2) for k in end}
        out["ingest"] = round(out["ingest"] - harness_cpu_s, 2)
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


def _submissions(athletes: int, weeks: int, events: int) -> list:
    """The cohort's first submissions (in send order) holding about ``events`` events, generated
    before the clock starts: the simulator's CPU is the harness's, not ingest's."""
    taken, count = [], 0
    for sub in simulate_cohort(athletes=athletes, weeks=weeks, seed=3, start=START):
        taken.append(sub)
        count += len(sub.events)
        if count >= events:
            break
    return taken


class Client(threading.Thread):
    """One app client: its athletes' submissions (one batch each, as the app sends a day's logs),
    paced at ``rate`` events/s (open loop: a late send is not skipped, the next ones are not
    delayed), or as fast as it can when ``rate`` is 0. Its CPU outside ``append`` (pacing, the
    latency bookkeeping) is the harness's."""

    def __init__(self, ingest, submissions: list, rate: float, checkpoints: Checkpoints,
                 began: float, duration_s: float) -> None:
        super().__init__(daemon=True)
        self.ingest, self.submissions, self.rate = ingest, submissions, rate
        self.checkpoints, self.began, self.duration_s = checkpoints, began, duration_s
        self.sent = 0
        self.harness_cpu_s = 0.0
        self.max_late_s = 0.0
        self.append_s: list[float] = []

    def run(self) -> None:
        for sub in self.submissions:
            outside = time.thread_time()
            if self.rate:
                due = self.began + self.sent / self.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                else:
                    self.max_late_s = max(self.max_late_s, -delay)
            if time.perf_counter() - self.began >= self.duration_s:
                self.harness_cpu_s += time.thread_time() - outside
                return
            inside = time.thread_time()
            self.harness_cpu_s += inside - outside
            called = time.perf_counter()
            result = self.ingest.append(sub.athlete_id, sub.events)
            self.append_s.append(time.perf_counter() - called)
            after = time.thread_time()
            self.checkpoints.expect(sub.athlete_id, result.last_version, time.perf_counter())
            self.sent += len(sub.events)
            self.harness_cpu_s += time.thread_time() - after


def run(out: Path, *, mode: str, athletes: int, weeks: int, rate: float, duration_s: float,
        processes: int = 2, threads: int = 4, redis_url: str = DEFAULT_REDIS, poll_ms: float = 5.0,
        group_commit: bool | None = None, clients: int = 0, shards: int = 2, log=print) -> dict:
    """``latency``: ``clients`` (default 8) paced clients sharing ``rate`` events/s; ``sustained``:
    ``clients`` (default 16) as fast as they can. Group commit is on unless ``group_commit=False``
    (concurrent clients). ``shards`` (default 2, the best configuration measured) single-process
    worker groups, or with ``shards=0`` one group of ``processes`` sharing one queue."""
    clients = clients or (8 if mode == "latency" else 16)
    group_commit = True if group_commit is None else group_commit
    store_path = out / f"live-{mode}.sqlite3"
    remove_sqlite(store_path)
    store, ingest = _runtime(store_path, redis_url, group_commit, shards)
    workers = Workers(store_path, redis_url, processes, threads, shards) if mode != "ingest" else None
    checkpoints = Checkpoints(store_path, poll_ms)
    checkpoints.start()
    try:
        if workers is not None:
            _wait_ready(store_path, ingest, checkpoints)
        checkpoints.latencies.clear()
        lanes: list[list] = [[] for _ in range(clients)]
        for sub in _submissions(athletes, weeks, int(rate * duration_s) if rate else 10**9):
            lanes[hash(sub.athlete_id) % clients].append(sub)  # an athlete belongs to one client
        lane_events = [sum(len(sub.events) for sub in lane) for lane in lanes]
        offered = sum(lane_events) / duration_s if rate else None  # each lane spread over the run
        load_start = os.getloadavg()
        cpu = CpuMeter([proc.pid for proc in workers.procs] if workers else [], redis_url, checkpoints)
        began = time.perf_counter()
        pool = [Client(ingest, lane, events / duration_s if rate else 0.0, checkpoints, began,
                       duration_s * 1.5 if rate else duration_s)  # a paced run ends with its lanes
                for lane, events in zip(lanes, lane_events)]
        for client in pool:
            client.start()
        for client in pool:
            client.join()
        sent = sum(client.sent for client in pool)
        ingest_s = time.perf_counter() - began
        if workers is None:  # ingest alone: nothing will project them
            checkpoints.pending.clear()
        deadline = time.monotonic() + 600
        while checkpoints.outstanding() and time.monotonic() < deadline:
            time.sleep(0.01)
        done_s = time.perf_counter() - began
        harness_s = sum(client.harness_cpu_s for client in pool)
        spent = cpu.spent(harness_s)
        commands = cpu.redis_commands() - cpu.commands_start
        lat = checkpoints.latencies
        appends = [s for client in pool for s in client.append_s]
        return {"mode": mode, "offered_events_per_s": round(offered) if rate else None,
                "events": sent, "ingest_s": round(ingest_s, 2),
                "achieved_events_per_s": round(sent / ingest_s),
                "max_send_late_ms": round(max(c.max_late_s for c in pool) * 1000, 1),
                "append_call_p50_p99_ms": [round(_percentile(appends, q) * 1000, 1) for q in (0.5, 0.99)],
                "processed_s": round(done_s, 2), "processed_events_per_s": round(sent / done_s),
                "appends": len(lat), "unresolved": checkpoints.outstanding(),
                "p50_ms": round(_percentile(lat, 0.5) * 1000, 1),
                "p99_ms": round(_percentile(lat, 0.99) * 1000, 1),
                "max_ms": round(max(lat, default=float("nan")) * 1000, 1),
                "cpu_s": spent, "events_per_cpu_s": round(sent / spent["total"]) if spent["total"] else None,
                "worker_cpu_ms_per_event": round(spent["workers"] / sent * 1000, 3) if sent else None,
                "ingest_cpu_ms_per_event": round(spent["ingest"] / sent * 1000, 3) if sent else None,
                "redis_commands_per_event": round(commands / sent, 2) if sent else None,
                "harness_cpu_s": {"poller": round(checkpoints.cpu_s, 2), "clients": round(harness_s, 2)},
                "load_average": {"start": round(load_start[0], 2), "end": round(os.getloadavg()[0], 2)},
                "workers_from": os.environ.get("STRIDELINE_BENCH_WORKERS_ROOT") or str(ROOT),
                "processes": processes if not shards else shards, "shards": shards, "threads": threads,
                "poll_ms": poll_ms, "ingest_clients": clients, "group_commit": group_commit}
    finally:
        checkpoints.stopping.set()
        checkpoints.join()
        if workers is not None:
            workers.stop()
        store.close()


if __name__ == "__main__":  # python -m bench.live latency|sustained|ingest [rate] [seconds] [shards] [clients]
    import json as _json

    from bench.data import OUT
    if sys.argv[1:2] not in (["latency"], ["sustained"], ["ingest"]):
        sys.exit("usage: python -m bench.live latency|sustained|ingest [rate=1000, 0 = flat out] [seconds=15] [shards=2] [clients]"
                 " (the parts alone: python -m bench.live_costs)")
    _args = sys.argv[2:] + ["1000", "15", "2", "0"][len(sys.argv[2:]):]
    OUT.mkdir(parents=True, exist_ok=True)
    print(_json.dumps(run(OUT, mode=sys.argv[1], athletes=300, weeks=16, rate=float(_args[0]) if sys.argv[1] == "latency" else 0.0,
                          duration_s=float(_args[1]), shards=int(_args[2]), clients=int(_args[3]),
                          redis_url=os.environ.get("STRIDELINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")),
                     indent=2))
