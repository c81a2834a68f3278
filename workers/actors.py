"""Thin dramatiq actors: each takes ids, calls one engine function, returns.

dramatiq neither keeps order per key nor avoids redelivery, so every message is a wake-up and every
actor is idempotent: the data is always read from the store.

* ``project(athlete)``  - engine.pipeline.project_athlete: fold new events onto the state this
  process keeps in memory (or its snapshot), evaluate their decision points, commit recommendations
  (deterministic ids) + checkpoint in one transaction with compare-and-set, the state only when a
  snapshot is due; then clear the athlete's mark and wake the notifiers (if there are new
  recommendations) in one Redis round trip, and project again if an append landed before the clear.
* ``tick(athlete)``     - engine.pipeline.tick_athlete: the same, plus day boundaries up to the horizon.
* ``notify(channel, athlete)`` - engine.outbox.deliver_pending: deliver the recommendations after the
  channel's checkpoint; retried with exponential backoff; dead-lettered after the maximum, or at
  once when the receiver refuses for good.
* ``skip_recommendation(channel, athlete, dead_letter)`` - engine.outbox.skip: after a dead letter,
  pass over the recommendation and carry on with the next ones.
* ``sweep(chain, link)`` - workers.sweeper.sweep_once, as a chain of delayed messages.
"""

from __future__ import annotations

import uuid

import dramatiq
import structlog

import workers.broker  # noqa: F401 - sets the broker before the actors below are declared
from engine import outbox, pipeline
from events import recommendation_stream
from workers import context, keys
from workers.connections import is_redis, redis_client
from workers.context import runtime
from workers.pending import LocalPending, PendingSet, RedisPending
from workers.settings import SETTINGS
from workers.sweeper import Leases, LocalLeases, RedisLeases, sweep_once
from workers.wakeup import NOTIFY, PROJECT, Waker

log = structlog.get_logger("strideline.workers")

broker = dramatiq.get_broker()
if is_redis(broker) and SETTINGS.redis_url:
    _client = redis_client(SETTINGS.redis_url)
    pending: PendingSet = RedisPending(_client)
    leases: Leases = RedisLeases(_client)
else:
    pending = LocalPending()
    leases = LocalLeases()
waker = Waker(broker, pending)


def set_pending(store: PendingSet) -> None:
    global pending
    pending = waker.pending = store


def wake(athlete_id: str) -> None:
    """Ingest's hook after a commit: one projector wake-up unless one is already waiting."""
    waker.project(athlete_id)


def _wake_notifiers(outcome: pipeline.ProjectionOutcome) -> None:
    _log_race(outcome)
    if outcome.recommendations:
        waker.notify_all(list(runtime().notifiers), outcome.athlete_id)


def _log_race(outcome: pipeline.ProjectionOutcome) -> None:
    if outcome.attempts > 1:  # another worker saved this athlete first: we re-read and redid the fold
        log.info("projection_raced", athlete_id=outcome.athlete_id, attempts=outcome.attempts)


def _settle(channel: str, athlete_id: str, checkpoint: int) -> None:
    """Clear the delivery mark, then re-check the head: a recommendation appended meanwhile (whose
    wake-up found the mark set) gets its own wake-up."""
    pending.clear(keys.pending_notify(channel, athlete_id))
    if runtime().store.stream_version(recommendation_stream(athlete_id)) > checkpoint:
        waker.notify(channel, athlete_id)


@dramatiq.actor(actor_name=PROJECT.actor, queue_name=PROJECT.queue, max_retries=20, min_backoff=100,
                max_backoff=30_000)
def project(athlete_id: str) -> None:
    """Project, then clear the athlete's mark and wake the notifiers in one Redis round trip; an
    append that landed before the clear (its wake-up held back by the mark) is projected here."""
    rt = runtime()
    outcome = pipeline.project_athlete(rt.store, athlete_id, rt.policy, resident=context.resident())
    _log_race(outcome)
    waker.projected(athlete_id, list(rt.notifiers) if outcome.recommendations else [])
    if rt.store.stream_version(athlete_id) > outcome.checkpoint:  # appended after our read, before the clear
        _wake_notifiers(pipeline.project_athlete(rt.store, athlete_id, rt.policy, resident=context.resident()))


for _queue in keys.projector_queues(SETTINGS.projector_shards):  # sharded wake-ups (workers/settings.py)
    broker.declare_queue(_queue)


@dramatiq.actor(queue_name=keys.PROJECTOR_QUEUE, max_retries=20, min_backoff=100, max_backoff=30_000)
def tick(athlete_id: str) -> None:
    rt = runtime()
    _wake_notifiers(pipeline.tick_athlete(rt.store, athlete_id, rt.policy, rt.horizon(), resident=context.resident()))


@dramatiq.actor(actor_name=NOTIFY.actor, queue_name=NOTIFY.queue, max_retries=SETTINGS.notify_max_retries,
                min_backoff=SETTINGS.notify_min_backoff_ms, max_backoff=SETTINGS.notify_max_backoff_ms,
                throws=(outbox.PermanentDeliveryError,), on_dead_letter="skip_recommendation")
def notify(channel: str, athlete_id: str) -> None:
    rt = runtime()
    notifier = context.notifier(channel)
    if notifier is None:  # a channel configured elsewhere, not in this process
        log.warning("notify_channel_not_configured", channel=channel)
        return
    # this delivery is alive: renew its mark, so the sweeper does not start a second one (a mark
    # not renewed for STRIDELINE_NOTIFY_PENDING_TTL_MS no longer holds a re-send back)
    pending.touch(keys.pending_notify(channel, athlete_id), SETTINGS.notify_pending_ttl_ms)
    done = outbox.deliver_pending(rt.store, athlete_id, notifier, lambda kind: rt.routing.wants(channel, kind))
    _settle(channel, athlete_id, done.checkpoint)


@dramatiq.actor(queue_name=keys.NOTIFY_QUEUE, max_retries=5, min_backoff=1_000, max_backoff=60_000)
def skip_recommendation(channel: str, athlete_id: str, dead_letter: dict) -> None:
    if rid := dead_letter.get("recommendation_id"):
        outbox.skip(runtime().store, athlete_id, channel, uuid.UUID(rid))
    _settle(channel, athlete_id, outbox.checkpoint(runtime().store, athlete_id, channel))


@dramatiq.actor(queue_name=keys.SWEEPER_QUEUE, max_retries=0)
def sweep(chain: str | None = None, link: int = 0) -> None:
    """Heal lost wake-ups and tick athletes; a chained link first enqueues its successor."""
    if chain is not None:
        if not leases.advance_chain(chain, link, SETTINGS.sweeper_lease_ms):
            return  # an old or duplicated link: the live chain has moved on
        sweep.send_with_options(args=(chain, link + 1), delay=SETTINGS.sweep_interval_ms)
    sweep_once(runtime(), waker, send_tick, leases, SETTINGS.tick_interval_ms)


def send_tick(athlete_id: str) -> None:
    """A tick to the athlete's projector queue (its shard, when wake-ups are sharded)."""
    if not SETTINGS.projector_shards:
        tick.send(athlete_id)
        return
    broker.enqueue(dramatiq.Message(queue_name=keys.projector_queue(athlete_id, SETTINGS.projector_shards),
                                    actor_name=tick.actor_name, args=(athlete_id,), kwargs={}, options={}))


def start_sweeper() -> str | None:
    """Start the sweeper's chain unless one is live; returns the new chain's token."""
    token = leases.start_chain(SETTINGS.sweeper_lease_ms)
    if token is not None:
        sweep.send(token, 0)
    return token
