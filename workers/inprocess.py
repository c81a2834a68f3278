"""The embedded default: dramatiq's StubBroker and in-process worker threads running the real
actors, and the sweeper as a thread (healing lost wake-ups, day-boundary ticks), so a plain
`strideline serve` or `strideline demo` heals and ticks as the Redis deployment does."""

from __future__ import annotations

import queue
import threading

import dramatiq
import structlog
from dramatiq.brokers.stub import StubBroker

from engine.pipeline import ResidentStates
from engine.runtime import Runtime
from workers import actors, context
from workers.broker import QUEUES
from workers.pending import LocalPending
from workers.settings import SETTINGS
from workers.sweeper import LocalLeases, SweepReport, sweep_once

log = structlog.get_logger("strideline.workers")


class InProcessPipeline:
    """Ingest -> store -> wake-up via StubBroker -> worker threads -> projector -> notifiers.

    ``sweep_interval_s``: run the sweeper at start and then this often (None: no sweeper thread;
    the caller ticks with :meth:`tick_all`, as the demo's simulated clock does)."""

    def __init__(self, runtime: Runtime, *, threads: int = 1,
                 sweep_interval_s: float | None = SETTINGS.sweep_interval_ms / 1000,
                 tick_interval_ms: int = SETTINGS.tick_interval_ms) -> None:
        self.broker = dramatiq.get_broker()
        if not isinstance(self.broker, StubBroker):
            raise RuntimeError("the in-process pipeline needs the StubBroker (unset STRIDELINE_REDIS_URL)")
        context.configure(runtime)
        actors.set_pending(LocalPending())  # marks of an earlier pipeline in this process do not carry over
        # states in memory spare a load and a decode per wake-up; saved at every one, so readers in
        # this process (views, the demo) never see a state behind its checkpoint
        context.set_resident(ResidentStates(snapshot_every=1, snapshot_after_s=0))
        _fresh_queues(self.broker)
        runtime.ingestor.wake = actors.wake
        self.runtime = runtime
        self.worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=50)
        self.sweep_interval_s = sweep_interval_s
        self.tick_interval_ms = tick_interval_ms
        self.leases = LocalLeases()
        self.sweeps = 0
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def __enter__(self) -> InProcessPipeline:
        self.worker.start()
        if self.sweep_interval_s:
            self._stop.clear()
            self._sweeper = threading.Thread(target=self._sweep_forever, name="strideline-sweeper", daemon=True)
            self._sweeper.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(30)
        self.worker.stop()

    def sweep(self) -> SweepReport:
        """One sweep: wake whatever is behind, tick every athlete if a tick round is due."""
        report = sweep_once(self.runtime, actors.waker, actors.tick.send, self.leases, self.tick_interval_ms)
        self.sweeps += 1
        return report

    def _sweep_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception as exc:  # a store hiccup: the next sweep tries again
                log.warning("sweep_failed", error=type(exc).__name__)
            self._stop.wait(self.sweep_interval_s)

    def drain(self) -> None:
        """Block until every queue is empty and every message processed (fails on a dead letter)."""
        while True:  # actors enqueue more work (projector -> notify); settle all of it
            for queue in QUEUES:
                self.broker.join(queue, fail_fast=True)
            self.worker.join()
            if not any(self.broker.queues[q].unfinished_tasks for q in self.broker.queues):
                return

    def tick_all(self) -> None:
        for athlete_id in _athletes(self.runtime):
            actors.tick.send(athlete_id)


def _fresh_queues(broker: StubBroker) -> None:
    """Start from empty queues. The StubBroker cannot requeue: a message an earlier pipeline's
    worker had prefetched when it stopped stays counted as unfinished forever, and ``join`` (drain)
    would wait for it. Whatever work such messages stood for, the first sweep finds in the store."""
    for name in list(broker.queues):
        broker.queues[name] = queue.Queue()
    broker.dead_letters_by_queue.clear()


def _athletes(runtime: Runtime) -> list[str]:
    from engine.pipeline import athletes
    return athletes(runtime.store)
