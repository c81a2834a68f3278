"""Wake-ups: the only messages Strideline sends. They carry ids, never data.

``Waker`` marks the athlete pending and, if nothing was pending, enqueues a message by actor name
on the broker it was given, so an ingest process (HTTP API, CLI) needs only a broker and Redis, not
the actor definitions:

    from workers.wakeup import make_waker
    runtime.ingestor.wake = make_waker()        # Redis from STRIDELINE_REDIS_URL

A failure to wake (Redis down) is logged and swallowed: the append has committed, and the sweeper
compares stream heads with checkpoints once Redis is back. After a failure the waker stops trying
for ``pause_s`` so an outage costs ingest one failed connection per pause, not one per append.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

import dramatiq
import structlog

from workers import keys
from workers.metrics import WAKE_UPS_LOST
from workers.pending import PendingSet
from workers.settings import SETTINGS

log = structlog.get_logger("strideline.workers")


class ActorRef(NamedTuple):
    queue: str
    actor: str


PROJECT = ActorRef(keys.PROJECTOR_QUEUE, "project")
NOTIFY = ActorRef(keys.NOTIFY_QUEUE, "notify")


class Waker:
    """Coalesced wake-ups for the projector and the notifiers; ``waker(athlete_id)`` is ingest's hook."""

    def __init__(self, broker: dramatiq.Broker, pending: PendingSet, *,
                 pending_ttl_ms: int = SETTINGS.pending_ttl_ms,
                 notify_pending_ttl_ms: int = SETTINGS.notify_pending_ttl_ms,
                 pause_s: float = 1.0) -> None:
        self.broker = broker
        self.pending = pending
        self.pending_ttl_ms = pending_ttl_ms
        self.notify_pending_ttl_ms = notify_pending_ttl_ms
        self.pause_s = pause_s
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.lost = 0
        """Wake-ups that could not be sent (each one is healed later by the sweeper)."""

    def __call__(self, athlete_id: str) -> bool:
        return self.project(athlete_id)

    def project(self, athlete_id: str) -> bool:
        """Wake the projector for ``athlete_id`` unless a wake-up is already waiting."""
        return self._wake(keys.pending_project(athlete_id), self.pending_ttl_ms, PROJECT, (athlete_id,))

    def notify(self, channel: str, athlete_id: str) -> bool:
        """Wake the ``channel`` notifier for ``athlete_id`` unless a delivery is pending."""
        return self._wake(keys.pending_notify(channel, athlete_id), self.notify_pending_ttl_ms, NOTIFY,
                          (channel, athlete_id))

    def _wake(self, key: str, ttl_ms: int, ref: ActorRef, args: tuple) -> bool:
        if self._paused_until and time.monotonic() < self._paused_until:
            self._lost(ref)
            return False
        try:
            if not self.pending.mark(key, ttl_ms):
                return False
        except Exception as exc:  # Redis is down: the append stands, the sweeper will heal it
            self._failed(ref, args, exc)
            return False
        try:
            self.broker.enqueue(dramatiq.Message(queue_name=ref.queue, actor_name=ref.actor, args=args,
                                                 kwargs={}, options={}))
        except Exception as exc:
            try:
                self.pending.clear(key)
            except Exception:  # the mark expires on its own
                pass
            self._failed(ref, args, exc)
            return False
        self._paused_until = 0.0
        return True

    def _failed(self, ref: ActorRef, args: tuple, exc: BaseException) -> None:
        with self._lock:
            self._paused_until = time.monotonic() + self.pause_s
        self._lost(ref)
        log.warning("wake_up_lost", actor=ref.actor, args=list(args), error=type(exc).__name__,
                    detail=str(exc)[:200])

    def _lost(self, ref: ActorRef) -> None:
        with self._lock:
            self.lost += 1
        WAKE_UPS_LOST.labels(ref.actor).inc()


def make_waker(redis_url: str | None = None) -> Waker:
    """A waker for an ingest process: its own Redis broker (no middleware, no actors needed)."""
    from workers.broker import make_broker, redis_client
    from workers.pending import RedisPending

    url = redis_url or SETTINGS.redis_url
    if not url:
        raise RuntimeError("make_waker needs STRIDELINE_REDIS_URL (the in-process mode uses "
                           "workers.inprocess.InProcessPipeline)")
    return Waker(make_broker(redis_url=url, middleware=False), RedisPending(redis_client(url)))
