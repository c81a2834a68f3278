"""The sweeper: periodic healing, as a chain of delayed dramatiq messages (no timing loop).

Each sweep link checks that it belongs to the live chain, enqueues the next link with a delay of
``STRIDELINE_SWEEP_INTERVAL_MS``, then sweeps once:

1. athletes whose projection checkpoint is behind their stream head get a projector wake-up
   (a wake-up lost to a Redis outage or a killed worker);
2. channels whose outbox checkpoint is behind the recommendation stream get a notifier wake-up;

   both judged from the store alone: a wake-up mark holds a re-send back only while it is younger
   than its bound (``STRIDELINE_PENDING_TTL_MS``, ``STRIDELINE_NOTIFY_PENDING_TTL_MS``; a delivery
   attempt renews its mark), so whatever orphaned a mark, work behind is re-sent within that bound
   plus one sweep interval;
3. at most once per ``STRIDELINE_TICK_INTERVAL_MS`` (a ``SET NX PX`` key), every athlete is ticked:
   day boundaries up to ``runtime.horizon()`` (rules about time passing with no logs).

One chain only: the chain's lease key holds ``<token>:<link>`` and a link advances it with a
compare-and-set, so a duplicated or requeued old link (a killed worker's message coming back) finds
the lease moved on and ends there. The lease expires after three missed intervals; the keeper
(``workers.middleware.SweeperKeeper``) then starts a new chain.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

import msgspec
import redis
import structlog

from engine import metrics as engine_metrics
from engine import outbox, pipeline
from engine.runtime import Runtime
from workers import keys
from workers.metrics import WAKE_UPS
from workers.wakeup import Waker

log = structlog.get_logger("strideline.workers")


class Leases(Protocol):
    def start_chain(self, ttl_ms: int) -> str | None:
        """A new chain token if no chain is live (the lease was free), else None."""

    def advance_chain(self, token: str, link: int, ttl_ms: int) -> bool:
        """Move the lease from link to link + 1; False if this link is not the live one."""

    def tick_round(self, ttl_ms: int) -> bool:
        """True at most once per ``ttl_ms`` across every process."""


class LocalLeases:
    """In-process leases (the embedded default)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _get(self, key: str) -> str | None:
        value = self._values.get(key)
        return value[0] if value and value[1] > time.monotonic() else None

    def _set(self, key: str, value: str, ttl_ms: int) -> None:
        self._values[key] = (value, time.monotonic() + ttl_ms / 1000)

    def start_chain(self, ttl_ms: int) -> str | None:
        with self._lock:
            if self._get(keys.SWEEPER_CHAIN) is not None:
                return None
            token = uuid.uuid4().hex
            self._set(keys.SWEEPER_CHAIN, f"{token}:0", ttl_ms)
            return token

    def advance_chain(self, token: str, link: int, ttl_ms: int) -> bool:
        with self._lock:
            if self._get(keys.SWEEPER_CHAIN) != f"{token}:{link}":
                return False
            self._set(keys.SWEEPER_CHAIN, f"{token}:{link + 1}", ttl_ms)
            return True

    def tick_round(self, ttl_ms: int) -> bool:
        with self._lock:
            if self._get(keys.SWEEPER_TICK_ROUND) is not None:
                return False
            self._set(keys.SWEEPER_TICK_ROUND, "1", ttl_ms)
            return True


_ADVANCE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
end
return 0
"""


class RedisLeases:
    """The same leases on Redis, shared by every worker process."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._advance = client.register_script(_ADVANCE)

    def start_chain(self, ttl_ms: int) -> str | None:
        token = uuid.uuid4().hex
        return token if self.client.set(keys.SWEEPER_CHAIN, f"{token}:0", nx=True, px=ttl_ms) else None

    def advance_chain(self, token: str, link: int, ttl_ms: int) -> bool:
        return bool(self._advance(keys=[keys.SWEEPER_CHAIN], args=[f"{token}:{link}", f"{token}:{link + 1}", ttl_ms]))

    def tick_round(self, ttl_ms: int) -> bool:
        return bool(self.client.set(keys.SWEEPER_TICK_ROUND, b"1", nx=True, px=ttl_ms))


class SweepReport(msgspec.Struct, frozen=True):
    projections_behind: int
    outboxes_behind: int
    ticked: int


def sweep_once(runtime: Runtime, waker: Waker, send_tick: Callable[[str], object], leases: Leases,
               tick_interval_ms: int) -> SweepReport:
    """Wake whatever is behind; tick every athlete if a tick round is due."""
    store = runtime.store
    behind = 0
    for athlete_id, _head, _checkpoint in pipeline.lagging_athletes(store):
        behind += 1
        if waker.project(athlete_id):
            WAKE_UPS.labels("project").inc()
    engine_metrics.sweep_found(behind)
    outboxes = 0
    for channel, athlete_id, _head, _checkpoint in outbox.lagging_outboxes(store, list(runtime.notifiers)):
        outboxes += 1
        if waker.notify(channel, athlete_id):
            WAKE_UPS.labels("notify").inc()
    ticked = 0
    if leases.tick_round(tick_interval_ms):
        for athlete_id in pipeline.athletes(store):
            send_tick(athlete_id)
            ticked += 1
        WAKE_UPS.labels("tick").inc(ticked)
    report = SweepReport(behind, outboxes, ticked)
    if behind or outboxes or ticked:
        log.info("sweep", projections_behind=behind, outboxes_behind=outboxes, ticked=ticked)
    return report
