"""Delivery outboxes: how far each channel has delivered an athlete's recommendation stream.

The recommendation stream in the store is the outbox. Each channel (``log``, ``webhook``,
``redis_stream``) keeps a checkpoint per athlete, saved with compare-and-set in the projection
table under the name ``outbox:<channel>``, and delivers the recommendations after it in stream
order. A notifier message is therefore only a wake-up, like the projector's: a lost or duplicated
message (a killed worker, Redis restarted empty) delays delivery but never loses it, and the sweeper
finds lagging outboxes by comparing recommendation stream heads with these checkpoints.

The stream holds advice issued and advice withdrawn; both are delivered in stream order and routed
by ``kind`` (a withdrawal carries the withdrawn advice's kind). Errors and :func:`skip` name an
entry by its delivery id (``engine.notifiers.delivery_id``: the recommendation id, or the
withdrawal id of a withdrawal), the id the store keeps it under.

Delivery is at-least-once: a crash between a delivery and the checkpoint save delivers again, so
receivers deduplicate by that delivery id. A recommendation the channel gives up on (its
retries exhausted, or refused for good) is skipped with :func:`skip` after it is dead-lettered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator

import msgspec

from engine.notifiers import DeliveryRejected, Notifier, delivery_id
from engine.store.base import EventStore
from events import recommendation_stream
from events.envelope import RECOMMENDATION_STREAM_SUFFIX, is_recommendation_stream

READ_CHUNK = 200


def outbox_name(channel: str) -> str:
    return f"outbox:{channel}"


class DeliveryError(Exception):
    """Delivering one recommendation on one channel failed; names which, and why."""

    permanent = False

    def __init__(self, channel: str, athlete_id: str, recommendation_id: uuid.UUID, cause: BaseException) -> None:
        self.channel, self.athlete_id, self.recommendation_id = channel, athlete_id, recommendation_id
        super().__init__(f"{channel} delivery of recommendation {recommendation_id} ({athlete_id}) failed: "
                         f"{type(cause).__name__}: {cause}")


class TransientDeliveryError(DeliveryError):
    """Worth retrying with backoff (timeouts, 5xx, 408, 429, connection errors)."""


class PermanentDeliveryError(DeliveryError):
    """Refused for good (a 4xx other than 408/429): not retried, dead-lettered at once."""

    permanent = True


class DeliveryOutcome(msgspec.Struct, frozen=True):
    channel: str
    athlete_id: str
    delivered: int
    skipped: int
    """Recommendations this channel's routing does not want (passed over, checkpoint advanced)."""
    checkpoint: int
    raced: bool = False
    """Another worker advanced the checkpoint meanwhile; it carries on from there."""


def checkpoint(store: EventStore, athlete_id: str, channel: str) -> int:
    record = store.load_projection(athlete_id, outbox_name(channel))
    return 0 if record is None else record.checkpoint


def deliver_pending(store: EventStore, athlete_id: str, notifier: Notifier,
                    wants: Callable[[str], bool] = lambda kind: True) -> DeliveryOutcome:
    """Deliver the athlete's recommendations after the channel's checkpoint, in stream order.

    Progress is saved after every chunk and before a failure propagates, so a retry starts at the
    recommendation that failed. Raises ``TransientDeliveryError`` or ``PermanentDeliveryError``.
    """
    channel = notifier.channel
    name = outbox_name(channel)
    record = store.load_projection(athlete_id, name)
    expected = None if record is None else record.checkpoint
    done = expected or 0
    delivered = skipped = 0
    stream = recommendation_stream(athlete_id)

    raced = False

    def save() -> bool:
        nonlocal expected, raced
        if raced or done == (expected or 0):
            return not raced
        if not store.save_projection(athlete_id, name, b"", done, expected):
            raced = True
            return False
        expected = done
        return True

    try:
        while chunk := store.read_stream(stream, done + 1, READ_CHUNK):
            for envelope in chunk:
                rec = envelope.data  # advice issued or withdrawn: a withdrawal has its advice's kind
                if wants(rec.kind):
                    try:
                        notifier.deliver(rec)
                    except DeliveryRejected as exc:
                        raise PermanentDeliveryError(channel, athlete_id, delivery_id(rec), exc) from exc
                    except Exception as exc:
                        raise TransientDeliveryError(channel, athlete_id, delivery_id(rec), exc) from exc
                    delivered += 1
                else:
                    skipped += 1
                done = envelope.version
            if not save():
                return DeliveryOutcome(channel, athlete_id, delivered, skipped, done, raced=True)
    finally:
        save()  # on failure: keep the progress made before the failing recommendation
    return DeliveryOutcome(channel, athlete_id, delivered, skipped, done)


def skip(store: EventStore, athlete_id: str, channel: str, recommendation_id: uuid.UUID) -> bool:
    """Pass over a recommendation the channel gave up on (after its dead letter is recorded).

    True once the checkpoint is at or past it; False if it is not the next one to deliver.
    """
    stored = store.get_event(recommendation_id)
    if stored is None or stored.stream != recommendation_stream(athlete_id):
        raise LookupError(f"recommendation {recommendation_id} of {athlete_id} is not stored")
    name = outbox_name(channel)
    for _ in range(5):
        record = store.load_projection(athlete_id, name)
        current = 0 if record is None else record.checkpoint
        if current >= stored.version:
            return True
        if current != stored.version - 1:
            return False
        if store.save_projection(athlete_id, name, b"", stored.version, None if record is None else current):
            return True
    return False


def recommendation_heads(store: EventStore) -> dict[str, int]:
    """Athlete -> version of their recommendation stream (athletes with at least one)."""
    return {h.stream.removesuffix(RECOMMENDATION_STREAM_SUFFIX): h.version
            for h in store.stream_heads() if is_recommendation_stream(h.stream)}


def lagging_outboxes(store: EventStore, channels: Iterable[str]) -> Iterator[tuple[str, str, int, int]]:
    """(channel, athlete, recommendation head, channel checkpoint) for every outbox that is behind."""
    heads = recommendation_heads(store)
    for channel in channels:
        done = store.projection_checkpoints(outbox_name(channel))
        for athlete_id, head in heads.items():
            if done.get(athlete_id, 0) < head:
                yield channel, athlete_id, head, done.get(athlete_id, 0)
