"""The fault suite's helpers: worker processes on the PRODUCTION defaults (nothing tuned: sweep,
tick, maintenance, heartbeat, retries and marks as shipped), a recovery clock, and the end checks
(0 lost, 0 duplicated, projections equal a rebuild, recommendations equal a replay)."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable

import dramatiq
import redis

from engine import outbox, pipeline
from workers import keys
from workers.connections import bare_broker
from workers_support import (
    SECRET,
    SETTLE,
    Comparison,
    Receiver,
    log_now,
    outboxes_done,
    stored_recommendation_ids,
    wait_until,
)

BOUND_S = 60.0
"""The recovery bound the issue sets, with the production defaults."""
CHANNELS = ["log", "webhook"]


def production_env(redis_url: str, store_url: str, webhook_url: str | None) -> dict[str, str]:
    """What a deployment sets: where Redis, the store and the webhook are, the log clock (simulated
    cohorts), and nothing else: every timing setting keeps its production default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIDELINE_", "PROMETHEUS_"))}
    env.update({
        "STRIDELINE_REDIS_URL": redis_url,
        "STRIDELINE_STORE_URL": store_url,
        "STRIDELINE_CLOCK": "log",
        "STRIDELINE_WEBHOOK_SECRET": SECRET,
        "STRIDELINE_LOG_LEVEL": "WARNING",
    })
    if webhook_url:
        env["STRIDELINE_WEBHOOK_URL"] = webhook_url
    return env


def behind(store, channels: Iterable[str], receiver: Receiver) -> str | None:
    """What is still behind (None: every event projected, every outbox at its head and every stored
    recommendation POSTed to the webhook)."""
    lagging = sum(1 for _ in pipeline.lagging_athletes(store))
    if lagging:
        return f"{lagging} athletes unprojected"
    outboxes = sum(1 for _ in outbox.lagging_outboxes(store, list(channels)))
    if outboxes:
        return f"{outboxes} outboxes behind"
    missing = set(stored_recommendation_ids(store)) - receiver.delivered()
    if missing:
        return f"{len(missing)} recommendations not delivered"
    return None


def recovery_seconds(store, receiver: Receiver, since: float, what: str, bound: float = BOUND_S) -> float:
    """Seconds from ``since`` (monotonic) until nothing is behind; fails past the bound, saying what
    was still behind."""
    last = ["?"]

    def caught_up() -> bool:
        last[0] = behind(store, CHANNELS, receiver) or ""
        return not last[0]

    try:
        wait_until(caught_up, max(0.0, since + bound - time.monotonic()), what, interval=0.25)
    except AssertionError:
        raise AssertionError(f"{what}: not recovered {bound:.0f} s after the fault ended: {last[0]}") from None
    return time.monotonic() - since


def tick_everyone(redis_url: str, store) -> None:
    """Evaluate every athlete's day boundaries up to the log's now (what the next tick round does),
    so the live state can be compared with a replay at one horizon."""
    broker = bare_broker(redis_url=redis_url)
    for athlete_id in pipeline.athletes(store):
        broker.enqueue(dramatiq.Message(queue_name=keys.PROJECTOR_QUEUE, actor_name="tick", args=(athlete_id,),
                                        kwargs={}, options={}))
    broker.client.close()


def assert_nothing_lost_or_duplicated(store, receiver: Receiver, redis_url: str) -> Comparison:
    """Projections equal a from-scratch rebuild, recommendations equal a replay, each stored once and
    POSTed (validly signed) at least once, every outbox at its head."""
    tick_everyone(redis_url, store)
    expected = Comparison(store, log_now(store) - SETTLE)
    wait_until(lambda: not expected.mismatches(), BOUND_S, "live equals a replay of the log", interval=0.5)
    ids = expected.recommendation_ids()
    stored = stored_recommendation_ids(store)
    assert set(stored) == ids, "every recommendation of the replay is stored, and no other"
    assert max(stored.values(), default=1) == 1, "no recommendation stored twice"
    wait_until(lambda: ids <= receiver.delivered(), BOUND_S, "every recommendation POSTed")
    wait_until(lambda: outboxes_done(store, CHANNELS), BOUND_S, "every outbox at its head")
    assert receiver.all_valid()
    return expected


def requeued_seconds(redis_url: str, died_ms: int, since: float) -> float:
    """Seconds from ``since`` until no worker process that last beat before ``died_ms`` is left in
    dramatiq's heartbeat set: maintenance removes a dead process once its unacked messages are back
    in their queues (live processes beat every maintenance interval, so they move past it)."""
    client = redis.Redis.from_url(redis_url)
    heartbeats = f"{keys.DRAMATIQ_NAMESPACE}:__heartbeats__"
    wait_until(lambda: not client.zrangebyscore(heartbeats, 0, died_ms), BOUND_S,
               "the dead workers' messages requeued", interval=0.25)
    client.close()
    return time.monotonic() - since


def sigstop_redis(server) -> None:
    os.kill(server.proc.pid, 19)  # SIGSTOP: the process keeps its sockets and data, answers nothing


def sigcont_redis(server) -> None:
    os.kill(server.proc.pid, 18)


def flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()


def at(seconds: float) -> dt.timedelta:
    return dt.timedelta(seconds=seconds)
