"""The embedded default: dramatiq's StubBroker and an in-process worker running the real actors."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker

from engine.runtime import Runtime
from workers import actors, context
from workers.broker import QUEUES
from workers.pending import LocalPending


class InProcessPipeline:
    """Ingest -> store -> wake-up via StubBroker -> worker threads -> projector -> notifiers."""

    def __init__(self, runtime: Runtime, *, threads: int = 1) -> None:
        self.broker = dramatiq.get_broker()
        if not isinstance(self.broker, StubBroker):
            raise RuntimeError("the in-process pipeline needs the StubBroker (unset STRIDELINE_REDIS_URL)")
        context.configure(runtime)
        actors.set_pending(LocalPending())  # marks of an earlier pipeline in this process do not carry over
        runtime.ingestor.wake = actors.wake
        self.runtime = runtime
        self.worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=50)

    def __enter__(self) -> InProcessPipeline:
        self.worker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.worker.stop()

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


def _athletes(runtime: Runtime) -> list[str]:
    from engine.pipeline import athletes
    return athletes(runtime.store)
