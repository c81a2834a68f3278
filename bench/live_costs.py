"""The live pipeline's parts measured alone (moved out of bench/live.py):

* ``queue-cost``: dramatiq's Redis broker against a Redis Streams consumer, no-op handlers.
* ``wake-up-cost``: the projector's cost per wake-up in one process, no broker, state reloaded vs held.

    python -m bench.live_costs queue-cost [redis url] | wake-up-cost
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from bench.data import START, remove_sqlite
from bench.live import DEFAULT_REDIS, _percentile, _redis_cpu_s
from engine.simulation import simulate_cohort

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
                    _athlete_id, sent = json.loads(fields[b"m"])
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
        clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
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


if __name__ == "__main__":
    import json as _json
    if sys.argv[1:2] == ["queue-cost"]:
        print(_json.dumps(queue_cost(*(sys.argv[2:3] or [DEFAULT_REDIS])), indent=2))
    elif sys.argv[1:2] == ["wake-up-cost"]:
        from bench.data import OUT
        OUT.mkdir(parents=True, exist_ok=True)
        print(_json.dumps(wake_up_cost(OUT), indent=2))
    else:
        sys.exit("usage: python -m bench.live_costs queue-cost [redis url] | wake-up-cost")
