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

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator

import msgspec

from engine import metrics
from engine.notifiers import DeliveryRejected, Notifier, delivery_id
from engine.store.base import EventStore
from engine.tenancy.delivery import notifier_for
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

    retry_expected = True
    """engine/logs.py logs a retried attempt at WARNING without a traceback: it is routine."""


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
    notifier = notifier_for(store, athlete_id, notifier)  # the athlete's organisation may route elsewhere
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


def skip(store: EventStore, athlete_id: str, channel: str, recommendation_id: uuid.UUID, *,
         record: bool = True, error: str = "") -> bool:
    """Pass over a recommendation the channel gave up on (after its dead letter is recorded).

    With ``record`` it is also kept in the channel's dead-letter ledger (:func:`dead_letters`), so an
    operator can re-send it (:func:`redeliver`). True once the checkpoint is at or past it; False if
    it is not the next one to deliver.
    """
    stored = _recommendation(store, athlete_id, recommendation_id)
    name = outbox_name(channel)
    for _ in range(5):
        saved = store.load_projection(athlete_id, name)
        current = 0 if saved is None else saved.checkpoint
        if current >= stored.version:
            return True
        if current != stored.version - 1:
            return False
        if record:  # before advancing: a crash in between leaves a ledger entry, never a silent skip
            _edit_ledger(store, athlete_id, channel, lambda entries: _with(entries, DeadLetter(
                str(recommendation_id), stored.version, stored.data.kind, _utcnow(), error[:500])))
        if store.save_projection(athlete_id, name, b"", stored.version, None if saved is None else current):
            if record:
                metrics.delivery(channel, "dead_lettered")
            return True
    return False


# -- the dead-letter ledger: recommendations a channel passed over, for `strideline deliveries` ----


class DeadLetter(msgspec.Struct, frozen=True):
    recommendation_id: str
    version: int
    kind: str
    at: str
    error: str = ""


_ledger_encode = msgspec.msgpack.Encoder().encode
_ledger_decode = msgspec.msgpack.Decoder(list[DeadLetter]).decode


def ledger_name(channel: str) -> str:
    return f"dead_letters:{channel}"


def _utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _with(entries: list[DeadLetter], entry: DeadLetter) -> list[DeadLetter]:
    return [e for e in entries if e.recommendation_id != entry.recommendation_id] + [entry]


def _recommendation(store: EventStore, athlete_id: str, recommendation_id: uuid.UUID):
    stored = store.get_event(recommendation_id)
    if stored is None or stored.stream != recommendation_stream(athlete_id):
        raise LookupError(f"recommendation {recommendation_id} of {athlete_id} is not stored")
    return stored


def _edit_ledger(store: EventStore, athlete_id: str, channel: str,
                 change: Callable[[list[DeadLetter]], list[DeadLetter]]) -> list[DeadLetter]:
    """Apply ``change`` to the athlete's ledger with compare-and-set (the checkpoint is a revision)."""
    name = ledger_name(channel)
    for _ in range(20):
        saved = store.load_projection(athlete_id, name)
        entries = [] if saved is None else _ledger_decode(saved.state)
        changed = change(entries)
        revision = 0 if saved is None else saved.checkpoint
        if store.save_projection(athlete_id, name, _ledger_encode(changed), revision + 1,
                                 None if saved is None else revision):
            return changed
    raise RuntimeError(f"the {channel} dead-letter ledger of {athlete_id} kept changing under us")


def dead_letters(store: EventStore, channel: str) -> Iterator[tuple[str, DeadLetter]]:
    """(athlete, entry) for every recommendation ``channel`` dead-lettered and nobody resolved yet."""
    name = ledger_name(channel)
    for athlete_id in sorted(store.projection_checkpoints(name)):
        saved = store.load_projection(athlete_id, name)
        for entry in [] if saved is None else _ledger_decode(saved.state):
            yield athlete_id, entry


def find_dead_letter(store: EventStore, recommendation_id: str,
                     channels: Iterable[str]) -> tuple[str, str, DeadLetter] | None:
    """(channel, athlete, entry) of a dead-lettered recommendation, or None."""
    for channel in channels:
        for athlete_id, entry in dead_letters(store, channel):
            if entry.recommendation_id == recommendation_id:
                return channel, athlete_id, entry
    return None


def resolve(store: EventStore, athlete_id: str, channel: str, recommendation_id: str) -> None:
    """Drop one entry from the ledger (re-sent or deliberately left alone)."""
    _edit_ledger(store, athlete_id, channel,
                 lambda entries: [e for e in entries if e.recommendation_id != recommendation_id])


def redeliver(store: EventStore, athlete_id: str, notifier: Notifier, recommendation_id: str) -> None:
    """Send a dead-lettered recommendation again, now; on success it leaves the ledger. Raises the
    notifier's error (nothing changes) when the receiver still fails."""
    stored = _recommendation(store, athlete_id, uuid.UUID(recommendation_id))
    channel = notifier.channel
    notifier_for(store, athlete_id, notifier).deliver(stored.data)  # the athlete's organisation's receiver
    resolve(store, athlete_id, channel, recommendation_id)
    metrics.delivery(channel, "redelivered")


def operator_skip(store: EventStore, athlete_id: str, channel: str, recommendation_id: str) -> str:
    """Stop trying to deliver one recommendation: drop a dead letter from the ledger, or pass over
    the channel's next pending recommendation (one stuck in retries). Returns what was done."""
    if any(e.recommendation_id == recommendation_id for a, e in dead_letters(store, channel) if a == athlete_id):
        resolve(store, athlete_id, channel, recommendation_id)
        outcome = "dead letter dropped"
    elif skip(store, athlete_id, channel, uuid.UUID(recommendation_id), record=False):
        outcome = "passed over"
    else:
        raise LookupError(f"recommendation {recommendation_id} is neither a {channel} dead letter of "
                          f"{athlete_id} nor the next one {channel} has to deliver")
    metrics.delivery(channel, "operator_skipped")
    return outcome


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
