"""The runtime the actors use: set by the composition root, or built once from the environment.

A worker process builds it on first use from STRIDELINE_STORE_URL, STRIDELINE_POLICY(_CONFIG),
STRIDELINE_CLOCK (workers/clocks.py) and the notifier settings (workers/notify_config.py).
"""

from __future__ import annotations

import dataclasses
import os
import threading

from engine import metrics as engine_metrics
from engine.notifiers import DeliveryRejected, Notifier
from engine.pipeline import ResidentStates
from engine.runtime import Runtime, build_runtime
from events.vocabulary import RecommendationIssued
from workers import notify_config
from workers.clocks import LogClock, clock_from_spec
from workers.metrics import DELIVERED
from workers.settings import SETTINGS

_runtime: Runtime | None = None
_lock = threading.Lock()
_counted: dict[str, Notifier] = {}
_resident: ResidentStates | None = None


def resident() -> ResidentStates:
    """This process's athletes' states in memory (engine.pipeline.ResidentStates), from the settings."""
    global _resident
    if _resident is None:
        with _lock:
            if _resident is None:
                _resident = ResidentStates(SETTINGS.resident_athletes, SETTINGS.snapshot_every_events,
                                           SETTINGS.snapshot_interval_ms / 1000)
    return _resident


def set_resident(states: ResidentStates | None) -> None:
    """Replace the states in memory (the in-process pipeline saves at every wake-up)."""
    global _resident
    _resident = states


def configure(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime
    _counted.clear()


class Counted:
    """A notifier that counts its successful deliveries (strideline_recommendations_delivered_total)."""

    def __init__(self, inner: Notifier) -> None:
        self.inner = inner
        self.channel = inner.channel

    def deliver(self, recommendation: RecommendationIssued) -> None:
        try:
            self.inner.deliver(recommendation)
        except DeliveryRejected:
            engine_metrics.delivery(self.channel, "rejected")
            raise
        except Exception:
            engine_metrics.delivery(self.channel, "failed")
            raise
        DELIVERED.labels(self.channel).inc()
        engine_metrics.delivery(self.channel, "delivered")


def notifier(channel: str) -> Notifier | None:
    """The runtime's notifier for ``channel``, counted; None if this process does not run it."""
    inner = runtime().notifiers.get(channel)
    if inner is None:
        return None
    counted = _counted.get(channel)
    if counted is None or counted.inner is not inner:
        counted = _counted[channel] = Counted(inner)
    return counted


def from_env() -> Runtime:
    clock = clock_from_spec(os.environ.get("STRIDELINE_CLOCK"))
    notifiers, routing = notify_config.load()
    runtime = build_runtime(clock=clock, notifiers=notifiers)
    if isinstance(clock, LogClock):
        clock.bind(runtime.store)
    return dataclasses.replace(runtime, routing=routing)


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = from_env()
    return _runtime
