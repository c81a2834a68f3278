"""Helpers for the worker tests: real dramatiq worker processes, a webhook receiver, a Redis server
of our own (for outages), ingest of simulated cohorts, and an in-process replay to compare with.

Synchronisation is always bounded polling on an observable condition (``wait_until``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis

from engine import outbox, pipeline
from engine.clock import ManualClock
from engine.decisions import advance
from engine.ingest import Ingestor
from engine.notifiers import delivery_id
from engine.notifiers.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from engine.policies.base import load_policy
from engine.runtime import DEFAULT_POLICY
from engine.store.sqlite import SQLiteEventStore
from events.envelope import is_recommendation_stream
from projections.athlete import AthleteState, decode
from ports import free_port  # noqa: F401 - re-exported to the suites that import it from here

REPO = Path(__file__).resolve().parents[2]
SECRET = "test-webhook-secret"
SETTLE = dt.timedelta(seconds=2)  # the workers' Runtime.settle_margin


def wait_until(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.05):
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(interval)


# -- the webhook receiver ----------------------------------------------------------------------


class Receiver:
    """A local webhook endpoint on 127.0.0.1 (threads of this test process); records every attempt.

    ``respond(body) -> (status, delay_s)`` decides each answer (default: 200 at once)."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret.encode()
        self.attempts: list[dict] = []
        self.lock = threading.Lock()
        self.respond: Callable[[dict, int], tuple[int, float]] = lambda body, attempt: (200, 0.0)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                key = self.headers.get(IDEMPOTENCY_HEADER)
                valid = verify_signature(receiver.secret, raw, self.headers.get(TIMESTAMP_HEADER, ""),
                                         self.headers.get(SIGNATURE_HEADER, ""))
                with receiver.lock:
                    attempt = sum(1 for a in receiver.attempts if a["key"] == key) + 1
                    status, delay = receiver.respond(body, attempt)
                    receiver.attempts.append({"key": key, "body": body, "valid": valid, "status": status,
                                              "at": time.monotonic()})
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/strideline"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> set[str]:
        """Idempotency keys answered with a 2xx."""
        with self.lock:
            return {a["key"] for a in self.attempts if 200 <= a["status"] < 300}

    def tries(self, key: str) -> int:
        with self.lock:
            return sum(1 for a in self.attempts if a["key"] == key)

    def all_valid(self) -> bool:
        with self.lock:
            return all(a["valid"] for a in self.attempts)


# -- worker processes --------------------------------------------------------------------------


def worker_env(redis_url: str, store_path: Path, webhook_url: str | None, **extra: str) -> dict[str, str]:
    """Functional tests' workers: short sweep, tick and retry intervals so behaviour shows in seconds.
    Queue maintenance and heartbeats keep their defaults; the fault suite (fault_support.py) tunes nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIDELINE_", "PROMETHEUS_"))}
    env.update({
        "STRIDELINE_REDIS_URL": redis_url,
        "STRIDELINE_STORE_URL": f"sqlite:///{store_path}?synchronous=NORMAL",
        "STRIDELINE_CLOCK": "log",
        "STRIDELINE_SWEEP_INTERVAL_MS": "500",
        "STRIDELINE_TICK_INTERVAL_MS": "1000",
        "STRIDELINE_NOTIFY_MAX_RETRIES": "3",
        "STRIDELINE_NOTIFY_MIN_BACKOFF_MS": "100",
        "STRIDELINE_NOTIFY_MAX_BACKOFF_MS": "400",
        "STRIDELINE_WEBHOOK_SECRET": SECRET,
        "STRIDELINE_WEBHOOK_TIMEOUT_S": "1",
        "STRIDELINE_LOG_LEVEL": "WARNING",
        "dramatiq_restart_delay": "500",
    })
    if webhook_url:
        env["STRIDELINE_WEBHOOK_URL"] = webhook_url
    env.update(extra)
    return env


class Workers:
    """``python -m dramatiq workers.actors -p P -t T`` as a subprocess (its own process group)."""

    def __init__(self, env: dict[str, str], log_path: Path, processes: int = 1, threads: int = 2,
                 argv: list[str] | None = None) -> None:
        self.env, self.log_path, self.processes, self.threads = env, log_path, processes, threads
        self.argv = argv or [sys.executable, "-m", "dramatiq", "workers.actors", "-p", str(processes),
                             "-t", str(threads)]
        self.proc: subprocess.Popen | None = None

    def start(self) -> Workers:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        wait_until(lambda: len(self.children()) >= self.processes, 20, "worker processes forked")
        return self

    def children(self) -> list[int]:
        """The worker processes (children of the dramatiq main process)."""
        if self.proc is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def kill9_one(self) -> int:
        """SIGKILL one worker process (dramatiq's main process then stops the rest and exits)."""
        pid = self.children()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def terminate(self) -> None:
        """Ask for a graceful stop (SIGTERM: finish current messages, requeue prefetched ones)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def wait_exit(self, timeout: float = 20) -> int:
        return self.proc.wait(timeout)


class RedisServer:
    """A redis-server of our own on a free port 6390+ (no persistence), so it can be killed."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port(range(6390, 6420))
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_until(lambda: _pings(client), 10, f"redis-server on port {self.port}")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _free_port(candidates: Iterable[int]) -> int:
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for a test redis-server")


# -- ingest and replay -------------------------------------------------------------------------


def open_test_store(path: Path, clock: ManualClock) -> SQLiteEventStore:
    return SQLiteEventStore(path, clock=clock, synchronous="NORMAL")


def cohort(athletes: int, weeks: int, seed: int):
    from engine.simulation import simulate_cohort

    return list(simulate_cohort(athletes=athletes, weeks=weeks, seed=seed))


def feed(ingestor: Ingestor, clock: ManualClock, submissions, *, on_progress: Callable[[int], None] | None = None) -> int:
    """Append each submission at its send time (the simulated clock stamps recorded_at)."""
    events = 0
    for index, sub in enumerate(submissions):
        clock.set(sub.send_at)
        ingestor.append(sub.athlete_id, sub.events)
        events += len(sub.events)
        if on_progress:
            on_progress(index)
    return events


def log_now(store) -> dt.datetime:
    """What the workers' log clock reads: the newest recorded_at of any athlete event."""
    heads = [h for h in store.stream_heads() if not is_recommendation_stream(h.stream)]
    newest = max(heads, key=lambda h: h.position)
    return store.read_stream(newest.stream, newest.version, 1)[0].recorded_at


def replay(store, athlete_id: str, horizon: dt.datetime | None, policy=None):
    """Fold the athlete from scratch in this process: (state, recommendations)."""
    state = AthleteState(athlete_id=athlete_id)
    recs = advance(state, store.read_stream(athlete_id), policy or load_policy(DEFAULT_POLICY), horizon)
    return state, recs


class Comparison:
    """Live (stored by the workers) against an in-process replay of the same log."""

    def __init__(self, store, horizon: dt.datetime | None) -> None:
        self.store = store
        self.policy = load_policy(DEFAULT_POLICY)
        self.horizon = horizon
        self.expected = {a: replay(store, a, horizon, self.policy) for a in pipeline.athletes(store)}

    def mismatches(self) -> list[str]:
        bad = []
        for athlete_id, (state, recs) in self.expected.items():
            record = self.store.load_projection(athlete_id, pipeline.PROJECTION)
            if record is None or decode(record.state) != state:
                bad.append(f"{athlete_id}: projection")
            if pipeline.recommendations(self.store, athlete_id) != recs:
                bad.append(f"{athlete_id}: recommendations")
        return bad

    def recommendation_ids(self) -> set[str]:
        """The delivery ids (idempotency keys) expected: a withdrawal's is its withdrawal id."""
        return {str(delivery_id(r)) for _, recs in self.expected.values() for r in recs}


def stored_recommendation_ids(store) -> Counter:
    ids: Counter = Counter()
    for athlete_id in pipeline.athletes(store):
        ids.update(str(delivery_id(r)) for r in pipeline.recommendations(store, athlete_id))
    return ids


def outboxes_done(store, channels: Iterable[str]) -> bool:
    return not any(True for _ in outbox.lagging_outboxes(store, channels))


def wait_until_caught_up(store, receiver: Receiver, channels: list[str],
                         timeout: float = 120.0) -> tuple[Comparison, set[str]]:
    """Wait, in order, until every event is projected, live state and recommendations equal a replay
    of the log, every recommendation reached the webhook, and every outbox is at its head."""
    wait_until(lambda: not list(pipeline.lagging_athletes(store)), timeout, "every event projected")
    expected = Comparison(store, log_now(store) - SETTLE)
    wait_until(lambda: not expected.mismatches(), timeout,
               "projections and recommendations equal a from-scratch replay", interval=0.5)
    ids = expected.recommendation_ids()
    wait_until(lambda: ids <= receiver.delivered(), timeout, "every recommendation POSTed to the webhook")
    wait_until(lambda: outboxes_done(store, channels), timeout / 2, "every outbox at its head")
    return expected, ids


def stream_ids(client: redis.Redis, stream: str) -> Counter:
    """Delivery ids in the Redis stream (``idempotency_key``: a withdrawal's is its withdrawal id)."""
    return Counter(fields[b"idempotency_key"].decode() for _, fields in client.xrange(stream))


# -- a hand-written athlete ----------------------------------------------------------------------


def enrolment(at: dt.datetime) -> list[dict]:
    return [{"occurred_at": at.isoformat(), "data": {
        "type": "athlete.enrolled", "body_mass_kg": 70, "time_zone": "Europe/London",
        "pre_injury_weekly_km": 30, "pre_injury_longest_run_km": 12}},
        {"occurred_at": at.isoformat(), "data": {
            "type": "injury.reported", "injury_type": "tendinopathy",
            "onset_date": (at.date() - dt.timedelta(days=10)).isoformat()}}]


def diary(day: int, at: dt.datetime) -> list[dict]:
    return [{"occurred_at": at.isoformat(), "data": {"type": "pain.reported", "score": max(0, 5 - day),
                                                     "context": "rest"}},
            {"occurred_at": at.isoformat(), "data": {"type": "lift.logged", "exercise": "squat",
                                                     "load_kg": 40 + day, "reps": 6, "sets": 4, "rpe": 8}}]


def feed_diaries(ingestor: Ingestor, clock: ManualClock, athletes: list[str], days: int) -> None:
    for athlete_id in athletes:
        ingestor.append(athlete_id, enrolment(clock.now()))
    for day in range(days):
        clock.advance(dt.timedelta(days=1))
        for athlete_id in athletes:
            ingestor.append(athlete_id, diary(day, clock.now()))
