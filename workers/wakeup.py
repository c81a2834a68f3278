"""Wake-ups: the only messages Strideline sends. They carry ids, never data.

``Waker`` marks the athlete pending and, if no younger mark holds it back, enqueues a message by
actor name on the broker it was given, so an ingest process (HTTP API, CLI) needs only a broker and
Redis, not the actor definitions. On Redis the mark and the message are written by one Lua script
(workers/pending.py): a process dying, or a call timing out, can never leave one without the other.

``BackgroundWaker`` is ingest's hook: it queues the athlete id and returns at once; one thread
sends. While Redis is unreachable that thread backs off (0.25 s doubling to 5 s) and keeps the ids
(up to a bound); appends never wait on Redis. Whatever is not sent (the bound exceeded, the process
killed) the sweeper finds by comparing stream heads with checkpoints.

    from workers.wakeup import make_ingest_waker
    runtime.ingestor.wake = make_ingest_waker()        # Redis from STRIDELINE_REDIS_URL
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import NamedTuple

import dramatiq
import structlog

from workers import keys
from workers.connections import bare_broker, is_redis, redis_client
from workers.metrics import WAKE_UPS_LOST
from workers.pending import PendingSet, RedisPending
from workers.settings import SETTINGS

log = structlog.get_logger("strideline.workers")


class ActorRef(NamedTuple):
    queue: str
    actor: str


PROJECT = ActorRef(keys.PROJECTOR_QUEUE, "project")
NOTIFY = ActorRef(keys.NOTIFY_QUEUE, "notify")


class Waker:
    """Coalesced wake-ups for the projector and the notifiers; ``waker(athlete_id)`` wakes the projector."""

    def __init__(self, broker: dramatiq.Broker, pending: PendingSet, *,
                 pending_ttl_ms: int = SETTINGS.pending_ttl_ms,
                 notify_pending_ttl_ms: int = SETTINGS.notify_pending_ttl_ms,
                 pause_s: float = 1.0, projector_shards: int = SETTINGS.projector_shards) -> None:
        self.broker = broker
        self.pending = pending
        self.pending_ttl_ms = pending_ttl_ms
        self.notify_pending_ttl_ms = notify_pending_ttl_ms
        self.pause_s = pause_s
        self.projector_shards = projector_shards
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.lost = 0
        """Wake-ups that could not be sent (each one is healed later by the sweeper)."""

    @property
    def atomic(self) -> bool:
        return is_redis(self.broker) and isinstance(self.pending, RedisPending)

    def __call__(self, athlete_id: str) -> bool:
        return self.project(athlete_id)

    @property
    def paused(self) -> bool:
        return bool(self._paused_until) and time.monotonic() < self._paused_until

    def project(self, athlete_id: str) -> bool:
        """Wake the projector for ``athlete_id`` unless a recent wake-up is already waiting."""
        ref = PROJECT if not self.projector_shards else \
            ActorRef(keys.projector_queue(athlete_id, self.projector_shards), PROJECT.actor)
        return self._wake(keys.pending_project(athlete_id), self.pending_ttl_ms, ref, (athlete_id,))

    def notify(self, channel: str, athlete_id: str) -> bool:
        """Wake the ``channel`` notifier for ``athlete_id`` unless a delivery is under way."""
        return self._wake(keys.pending_notify(channel, athlete_id), self.notify_pending_ttl_ms, NOTIFY,
                          (channel, athlete_id))

    def notify_all(self, channels: list[str], athlete_id: str) -> int:
        """:meth:`notify` for every channel, in one Redis round trip; returns the wake-ups sent."""
        if not self.atomic or len(channels) < 2:
            return sum(self.notify(channel, athlete_id) for channel in channels)
        return self._notify_many(channels, athlete_id)

    def projected(self, athlete_id: str, channels: list[str]) -> int:
        """After a projector wake-up committed: clear the athlete's projector mark and wake the
        ``channels`` notifiers, in one Redis round trip. Raises if the mark could not be cleared
        (the caller's wake-up fails and is retried; appends meanwhile were held back by the mark)."""
        if not self.atomic or not channels:  # nothing to wake: a plain DEL, no pipeline
            self.pending.clear(keys.pending_project(athlete_id))
            return self.notify_all(channels, athlete_id)
        return self._notify_many(channels, athlete_id, clear=keys.pending_project(athlete_id))

    def _notify_many(self, channels: list[str], athlete_id: str, clear: str | None = None) -> int:
        if self.paused and clear is None:
            for _ in channels:
                self._lost(NOTIFY)
            return 0
        items = []
        for channel in channels:
            message = dramatiq.Message(queue_name=NOTIFY.queue, actor_name=NOTIFY.actor, args=(channel, athlete_id),
                                       kwargs={}, options={"redis_message_id": str(uuid.uuid4())})
            items.append((keys.pending_notify(channel, athlete_id), self.notify_pending_ttl_ms,
                          self.broker.namespace, NOTIFY.queue,  # type: ignore[attr-defined]
                          message.options["redis_message_id"], message.encode()))
        try:
            sent = self.pending.mark_and_enqueue_many(items, clear)  # type: ignore[attr-defined]
        except Exception as exc:  # Redis is down: the sweeper finds the outboxes behind
            for channel in channels:
                self._failed(NOTIFY, (channel, athlete_id), exc)
            if clear is not None:
                raise
            return 0
        self._paused_until = 0.0
        return sum(sent)

    def _wake(self, key: str, ttl_ms: int, ref: ActorRef, args: tuple) -> bool:
        if self.paused:
            self._lost(ref)
            return False
        message = dramatiq.Message(queue_name=ref.queue, actor_name=ref.actor, args=args, kwargs={}, options={})
        try:
            if self.atomic:
                message = message.copy(options={"redis_message_id": str(uuid.uuid4())})
                sent = self.pending.mark_and_enqueue(  # type: ignore[attr-defined]
                    key, ttl_ms, self.broker.namespace, ref.queue,  # type: ignore[attr-defined]
                    message.options["redis_message_id"], message.encode())
            else:  # in process: nothing can die between the two steps without the whole process
                sent = self.pending.mark(key, ttl_ms)
                if sent:
                    self.broker.enqueue(message)
        except Exception as exc:  # Redis is down: the append stands, the sweeper will heal it
            self._failed(ref, args, exc)
            return False
        self._paused_until = 0.0
        return sent

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


class BackgroundWaker:
    """Ingest's hook: queue the id, return at once; a daemon thread sends through a ``Waker``."""

    MAX_WAITING = 100_000
    """Ids kept while Redis is unreachable; beyond this they are dropped (counted) for the sweeper."""

    def __init__(self, waker: Waker, *, min_backoff_s: float = 0.25, max_backoff_s: float = 5.0) -> None:
        self.waker = waker
        self.min_backoff_s, self.max_backoff_s = min_backoff_s, max_backoff_s
        self._waiting: dict[str, None] = {}  # insertion-ordered set
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="strideline-waker", daemon=True)
        self._thread.start()

    @property
    def lost(self) -> int:
        return self.waker.lost + self.dropped

    def __call__(self, athlete_id: str) -> None:
        with self._cond:
            if athlete_id not in self._waiting and len(self._waiting) >= self.MAX_WAITING:
                self.dropped += 1
                WAKE_UPS_LOST.labels(PROJECT.actor).inc()
                return
            self._waiting[athlete_id] = None
            self._cond.notify()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued id was sent or given up on (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._waiting or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        """Stop the sending thread (ids still queued are left to the sweeper)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _run(self) -> None:
        backoff = self.min_backoff_s
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                batch = list(self._waiting)
                self._waiting.clear()
                self._busy = True
            unsent = self._send(batch)
            with self._cond:
                self._busy = False
                for athlete_id in unsent:  # keep them, unless newer ids filled the room meanwhile
                    if len(self._waiting) < self.MAX_WAITING:
                        self._waiting.setdefault(athlete_id, None)
                    else:
                        self.dropped += 1
                self._cond.notify_all()
            if unsent:
                with self._cond:
                    self._cond.wait_for(lambda: self._closed, backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
            else:
                backoff = self.min_backoff_s

    def _send(self, batch: list[str]) -> list[str]:
        for index, athlete_id in enumerate(batch):
            self.waker.project(athlete_id)
            if self.waker.paused:  # Redis failed: keep this one and the rest for the next try
                return batch[index:]
        return []


def make_waker(redis_url: str | None = None, *, timeout_ms: int = SETTINGS.wake_timeout_ms) -> Waker:
    """A synchronous waker on its own Redis connection (short timeouts, no actors needed)."""
    url = redis_url or SETTINGS.redis_url
    if not url:
        raise RuntimeError("make_waker needs STRIDELINE_REDIS_URL (the in-process mode uses "
                           "workers.inprocess.InProcessPipeline)")
    return Waker(bare_broker(redis_url=url), RedisPending(redis_client(url, timeout_ms / 1000)))


def make_ingest_waker(redis_url: str | None = None) -> BackgroundWaker:
    """Ingest's hook for an API or CLI process: appends never wait on Redis."""
    return BackgroundWaker(make_waker(redis_url))
