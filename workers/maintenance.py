"""Deterministic queue maintenance: a killed worker's unacknowledged messages return within a bound.

dramatiq's RedisBroker moves a dead worker's fetched-but-unacked messages back to their queue only
during "maintenance", which its ``dispatch.lua`` runs on a random 0.1 % of commands and only for the
queue being dispatched: after a host crash, messages waited minutes. Here every worker process runs
that same maintenance on every queue (and its delay queue) every
``STRIDELINE_REDIS_MAINTENANCE_INTERVAL_MS``, through dramatiq's own script (a ``qsize`` command
with the maintenance flag set). The same call records this process's heartbeat, so a process busy
with long messages (whose consumers do not fetch, hence do not beat) is never taken for dead.

Bound: a worker process that stops beating is dead ``STRIDELINE_REDIS_HEARTBEAT_TIMEOUT_MS`` later,
and its messages are back in their queues at most one maintenance interval after that, as soon as
any worker process is running.
"""

from __future__ import annotations

import threading

import dramatiq
import structlog
from dramatiq.common import current_millis, dq_name

from workers import keys
from workers.connections import is_redis
from workers.settings import SETTINGS, Settings

log = structlog.get_logger("strideline.workers")


def maintain(broker: dramatiq.Broker, queues: tuple[str, ...] | None = None) -> None:
    """Run dramatiq's maintenance once on each queue and its delay queue (beats our heartbeat too)."""
    dispatch = broker.scripts["dispatch"]  # type: ignore[attr-defined]
    unpack = broker._max_unpack_size()  # type: ignore[attr-defined]
    for queue in queues if queues is not None else keys.all_queues(SETTINGS.projector_shards):
        for name in (queue, dq_name(queue)):
            dispatch(keys=[broker.namespace],  # type: ignore[attr-defined]
                     args=["qsize", current_millis(), name, broker.broker_id,  # type: ignore[attr-defined]
                           broker.heartbeat_timeout, broker.dead_message_ttl, 1, unpack])  # type: ignore[attr-defined]


class QueueMaintenance(dramatiq.Middleware):
    """A thread per worker process: :func:`maintain` every maintenance interval."""

    def __init__(self, settings: Settings) -> None:
        self.interval_s = settings.maintenance_interval_ms / 1000
        self._stop = threading.Event()

    def after_worker_boot(self, broker, worker):
        if not is_redis(broker) or self.interval_s <= 0:
            return
        self._stop.clear()
        threading.Thread(target=self._run, args=(broker,), name="strideline-queue-maintenance",
                         daemon=True).start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()

    def _run(self, broker: dramatiq.Broker) -> None:
        while not self._stop.is_set():
            try:
                maintain(broker)
            except Exception as exc:  # Redis down: next interval
                log.warning("queue_maintenance_failed", error=type(exc).__name__)
            self._stop.wait(self.interval_s)
