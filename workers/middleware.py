"""Cross-cutting concerns as dramatiq middleware, never inside actor bodies.

* ``LogContext`` - structlog context (message id, actor, athlete id) for the message's duration.
* ``Metrics`` - Prometheus counters and histograms (workers/metrics.py), and the fork that serves
  every worker process's metrics. Deliveries are counted one by one where they happen, by the
  ``Counted`` notifier wrapper (workers/context.py).
* ``DeadLetters`` - every message that fails for good is recorded where operators can look
  (the ``strideline:dead_letters`` Redis stream, a structured log line, a counter) besides
  dramatiq's own dead-letter queue (``dramatiq:<queue>.XQ``), and handed to the actor named by the
  actor option ``on_dead_letter`` (the notifier's: pass over the recommendation and carry on).
* ``Prefetch`` - how many messages a worker process takes ahead of its threads.
* ``ResidentSnapshots`` - saves the athletes' states kept in memory when due by time, and at shutdown.
* ``SweeperKeeper`` - re-arms the sweeper's chain of delayed messages when it is gone.
* ``QueueMaintenance`` (workers/maintenance.py) - dead workers' messages back in their queues within
  a bound, and a heartbeat while busy.
* ``ProcessSetup`` - structlog and the runtime, at the start of each dramatiq worker process.

dramatiq runs ``after_*`` hooks in reverse order of the middleware list; ``standard`` places each
one so that ``DeadLetters`` runs after ``Retries`` has decided, and ``LogContext`` clears last.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable

import dramatiq
import structlog
from dramatiq.middleware import AgeLimit, Retries

from engine import metrics as engine_metrics
from workers import keys, metrics
from workers.connections import redis_client
from workers.context import resident, runtime
from workers.maintenance import QueueMaintenance
from workers.settings import Settings
from workers.sweeper import RedisLeases

log = structlog.get_logger("strideline.workers")


def _athlete(message) -> str | None:
    if message.actor_name in ("notify", "skip_recommendation") and len(message.args) > 1:
        return message.args[1]
    if message.args and isinstance(message.args[0], str) and message.actor_name != "sweep":
        return message.args[0]
    return message.kwargs.get("athlete_id")


class LogContext(dramatiq.Middleware):
    """Binds message id, actor and athlete id to structlog's context for the message's duration."""

    def before_process_message(self, broker, message):
        structlog.contextvars.bind_contextvars(message_id=message.message_id, actor=message.actor_name,
                                               athlete_id=_athlete(message))

    def after_process_message(self, broker, message, *, result=None, exception=None):
        structlog.contextvars.clear_contextvars()

    after_skip_message = after_process_message


class Metrics(dramatiq.Middleware):
    """Messages processed (by outcome), failures and durations, per actor."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._started = threading.local()

    @property
    def forks(self):
        if self.settings.metrics_port and engine_metrics.multiprocess_dir():
            return [engine_metrics.serve_multiprocess]
        return []

    def before_process_message(self, broker, message):
        self._started.at = time.perf_counter()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        actor = message.actor_name
        started = getattr(self._started, "at", None)
        if started is not None:
            metrics.DURATION.labels(actor).observe(time.perf_counter() - started)
        if exception is None:
            metrics.MESSAGES.labels(actor, "ok").inc()
        else:
            metrics.MESSAGES.labels(actor, "failed" if message.failed else "retried").inc()
            metrics.FAILURES.labels(actor, type(exception).__name__).inc()

    def after_skip_message(self, broker, message):
        metrics.MESSAGES.labels(message.actor_name, "skipped").inc()


class DeadLetters(dramatiq.Middleware):
    """Records every message that failed for good and hands it to its ``on_dead_letter`` actor."""

    def __init__(self, record: Callable[[dict], None] | None = None) -> None:
        self.record = record
        self.recorded: collections.deque[dict] = collections.deque(maxlen=1000)
        """The in-process mode keeps the latest entries here when there is no Redis to record them in."""

    @property
    def actor_options(self):
        return {"on_dead_letter"}

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is None or not message.failed:
            return
        cause = exception.__cause__ or exception
        throws = broker.get_actor(message.actor_name).options.get("throws")
        refused = bool(throws) and isinstance(exception, throws)  # failed at once, not counted by Retries
        retries = message.options.get("retries", 0)
        entry = {
            "message_id": message.message_id,
            "actor": message.actor_name,
            "queue": message.queue_name,
            "args": json.dumps(list(message.args), default=str),
            "attempts": retries + 1 if refused else max(retries, 1),
            "error": f"{type(exception).__name__}: {exception}"[:1000],
            "cause": type(cause).__name__,
            "recommendation_id": str(getattr(exception, "recommendation_id", "") or ""),
            "at": dt.datetime.now(dt.timezone.utc).isoformat(),
        }
        channel = message.args[0] if message.actor_name == "notify" and message.args else ""
        metrics.DEAD_LETTERS.labels(message.actor_name, channel).inc()
        log.error("dead_letter", **{k: v for k, v in entry.items() if k != "args"}, args=list(message.args))
        try:
            if self.record is not None:
                self.record(entry)
            else:
                self.recorded.append(entry)
        except Exception as exc:  # the log line above still holds it
            log.warning("dead_letter_not_recorded", error=type(exc).__name__, message_id=message.message_id)
        target = broker.get_actor(message.actor_name).options.get("on_dead_letter")
        if target:
            try:
                broker.get_actor(target).send(*message.args, dead_letter=entry)
            except Exception as exc:  # the sweeper finds the stuck outbox again
                log.warning("dead_letter_follow_up_lost", error=type(exc).__name__, message_id=message.message_id)


class SweeperKeeper(dramatiq.Middleware):
    """Re-arms the sweeper when its chain is gone (first boot, Redis restarted empty).

    The sweeping itself is a chain of delayed messages (workers/sweeper.py). A chain lives in Redis,
    so if Redis loses its data nothing would restart it; this keeper, in every worker process, tries
    once per sweep interval to take the chain's lease (``SET NX PX``) and, only if it gets it, sends
    the first link. While a chain lives the lease is held and the keeper does nothing.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker, worker):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(broker,), name="strideline-sweeper-keeper",
                                        daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()

    def _run(self, broker: dramatiq.Broker) -> None:
        leases = RedisLeases(redis_client(self.settings.redis_url))  # type: ignore[arg-type]
        while not self._stop.is_set():
            try:  # the sweep actor is declared by the time a worker boots: found by name
                token = leases.start_chain(self.settings.sweeper_lease_ms)
                if token is not None:
                    broker.get_actor("sweep").send(token, 0)
                    log.info("sweeper_chain_started")
            except Exception as exc:  # Redis down: try again next interval
                log.warning("sweeper_chain_not_started", error=type(exc).__name__)
            self._stop.wait(self.settings.sweep_interval_ms / 1000)


class Prefetch(dramatiq.Middleware):
    """Sets how many messages the worker's consumers take ahead (``STRIDELINE_QUEUE_PREFETCH``)
    before they are created."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def before_worker_boot(self, broker, worker):
        if self.settings.queue_prefetch:
            worker.queue_prefetch = self.settings.queue_prefetch


class ResidentSnapshots(dramatiq.Middleware):
    """Saves the snapshots of athletes' states held in memory (engine.pipeline.ResidentStates) that
    are due by time, from a background thread, and every unsaved one when the worker shuts down, so
    a saved state is at most ``STRIDELINE_SNAPSHOT_INTERVAL_MS`` older than its checkpoint."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker, worker):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="strideline-snapshots", daemon=True)
        self._thread.start()

    def after_worker_shutdown(self, broker, worker):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self._flush(everything=True)

    def _run(self) -> None:
        interval = max(0.05, min(1.0, self.settings.snapshot_interval_ms / 2000))
        while not self._stop.wait(interval):
            self._flush(everything=False)

    def _flush(self, *, everything: bool) -> None:
        try:
            saved = resident().flush(runtime().store, everything=everything)
            if everything:
                log.info("snapshots_saved_at_shutdown", saved=saved)
        except Exception as exc:  # the store is down: the states are re-folded from older snapshots
            log.warning("snapshots_not_saved", error=type(exc).__name__)


class ProcessSetup(dramatiq.Middleware):
    """In each dramatiq worker process: structlog (JSON unless on a terminal; STRIDELINE_LOG_LEVEL),
    then the runtime, built now so a bad setting (store URL, policy, notifier configuration) stops
    the process at start with the setting named, rather than failing every message later."""

    def after_process_boot(self, broker):
        from engine.logs import configure_logging

        configure_logging(os.environ.get("STRIDELINE_LOG_LEVEL", "INFO"))
        try:
            rt = runtime()
        except Exception as exc:
            log.critical("worker_not_configured", error=f"{type(exc).__name__}: {exc}")
            raise SystemExit(3) from None  # not an Exception: dramatiq's hook runner lets it through
        log.info("worker_ready", channels=sorted(rt.notifiers), policy=f"{rt.policy.name}@{rt.policy.version}")


def standard(settings: Settings, *, redis_mode: bool) -> list[tuple[dramatiq.Middleware, dict]]:
    """(middleware, add_middleware keyword arguments) in the order to add them."""
    dead_letters = DeadLetters(_redis_recorder(settings) if redis_mode else None)
    items: list[tuple[dramatiq.Middleware, dict]] = [
        (LogContext(), {"before": AgeLimit}),  # first in the list: its after_ hooks run last
        (dead_letters, {"before": Retries}),   # its after_process_message runs after Retries'
        (Metrics(settings), {"before": Retries}),
        (ProcessSetup(), {}),
    ]
    dramatiq_metrics = engine_metrics.dramatiq_prometheus()  # dramatiq's own, when in multiprocess mode
    if dramatiq_metrics is not None:
        items.append((dramatiq_metrics, {}))
    if redis_mode:
        items.append((Prefetch(settings), {}))
        items.append((ResidentSnapshots(settings), {}))
        items.append((SweeperKeeper(settings), {}))
        items.append((QueueMaintenance(settings), {}))
    return items


def _redis_recorder(settings: Settings) -> Callable[[dict], None]:
    client = redis_client(settings.redis_url)

    def record(entry: dict) -> None:
        client.xadd(keys.DEAD_LETTERS, {k: str(v) for k, v in entry.items()},
                    maxlen=settings.dead_letters_maxlen, approximate=True)

    return record
