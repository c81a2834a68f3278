"""Thin dramatiq actors: each takes ids, calls one engine function, returns.

dramatiq neither keeps order per key nor avoids redelivery, so every message is a wake-up and every
actor is idempotent: the data is always read from the store.
"""

from __future__ import annotations

import uuid

import dramatiq
import structlog

import workers.broker  # noqa: F401  - sets the broker before the actors below are declared
from engine import pipeline
from workers.context import runtime
from workers.pending import LocalPending, PendingSet

log = structlog.get_logger("strideline.workers")
pending: PendingSet = LocalPending()


def set_pending(store: PendingSet) -> None:
    global pending
    pending = store


def wake(athlete_id: str) -> None:
    """Ingest's hook after a commit: send one projector wake-up unless one is already waiting."""
    if not pending.mark(athlete_id):
        return
    try:
        project.send(athlete_id)
    except Exception as exc:  # the broker is down: the append stands, the sweeper will heal it
        pending.clear(athlete_id)
        log.warning("wake_up_lost", athlete_id=athlete_id, error=type(exc).__name__)


def _fan_out(outcome: pipeline.ProjectionOutcome) -> None:
    rt = runtime()
    for rec in outcome.recommendations:
        for channel in rt.notifiers:
            if rt.routing.wants(channel, rec.kind):
                notify.send(channel, rec.athlete_id, str(rec.recommendation_id))


@dramatiq.actor(queue_name="projector", max_retries=20, min_backoff=100, max_backoff=30_000)
def project(athlete_id: str) -> None:
    pending.clear(athlete_id)
    _fan_out(pipeline.project_athlete(runtime().store, athlete_id, runtime().policy))


@dramatiq.actor(queue_name="projector", max_retries=20, min_backoff=100, max_backoff=30_000)
def tick(athlete_id: str) -> None:
    rt = runtime()
    _fan_out(pipeline.tick_athlete(rt.store, athlete_id, rt.policy, rt.horizon()))


@dramatiq.actor(queue_name="notify", max_retries=0)
def notify(channel: str, athlete_id: str, recommendation_id: str) -> None:
    rt = runtime()
    stored = rt.store.get_event(uuid.UUID(recommendation_id))
    if stored is None:
        raise LookupError(f"recommendation {recommendation_id} of {athlete_id} is not stored")
    rt.notifiers[channel].deliver(stored.data)


@dramatiq.actor(queue_name="sweeper", max_retries=3)
def sweep() -> None:
    """Heal lost wake-ups: wake every athlete whose projection is behind its stream head."""
    store = runtime().store
    healed = 0
    for athlete_id, head, checkpoint in pipeline.lagging_athletes(store):
        project.send(athlete_id)
        healed += 1
    if healed:
        log.info("sweeper_healed", athletes=healed)
