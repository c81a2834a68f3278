"""The event store contract, shared by every backend (SQLite now, PostgreSQL later)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Protocol

import msgspec

from events import Envelope, NewEvent


class StoreError(Exception):
    """Base of the store's refusals. Nothing was written when one is raised."""


class VersionConflict(StoreError):
    """The stream is not at the version the caller expected."""

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        self.stream, self.expected, self.actual = stream, expected, actual
        super().__init__(
            f"stream {stream!r} is at version {actual}, the append expected version {expected}"
        )


class IdempotencyConflict(StoreError):
    """An event id is already stored with a different stream, time or payload."""

    def __init__(self, event_id: uuid.UUID, detail: str) -> None:
        self.event_id = event_id
        super().__init__(f"event_id {event_id} is already stored {detail}")


class AthleteErased(StoreError):
    """The athlete was erased: their streams are tombstoned and take no more events (HTTP 410)."""

    def __init__(self, athlete_id: str) -> None:
        self.athlete_id = athlete_id
        super().__init__(f"athlete {athlete_id!r} was erased: their streams take no more events")


class AthleteNotVisible(StoreError):
    """The athlete belongs to another organisation than the appending key's (HTTP 404, as for an
    athlete that does not exist)."""

    def __init__(self, athlete_id: str) -> None:
        self.athlete_id = athlete_id
        super().__init__(f"no athlete {athlete_id!r} in this organisation")


class StoredEvent(msgspec.Struct, frozen=True):
    """Where one appended event landed."""

    event_id: uuid.UUID
    version: int
    position: int


class AppendResult(msgspec.Struct, frozen=True):
    stream: str
    events: list[StoredEvent]
    deduplicated: bool
    """True when every event was already stored (a retried append): nothing new was written.
    A re-sent superset (some stored, some new) is False; ``duplicates`` says which."""
    duplicates: frozenset[int] = frozenset()
    """Batch indices of the events an earlier append had already stored."""

    @property
    def last_version(self) -> int:
        return self.events[-1].version

    @property
    def last_position(self) -> int:
        return self.events[-1].position


class StreamHead(msgspec.Struct, frozen=True):
    stream: str
    version: int
    position: int


class ProjectionRecord(msgspec.Struct, frozen=True):
    state: bytes
    checkpoint: int
    """The last stream version folded into ``state`` (the snapshot's version; the projection's
    checkpoint, :meth:`EventStore.projection_checkpoint`, may be ahead of it)."""


class ProjectionCommit(msgspec.Struct, frozen=True):
    saved: bool
    """False: the checkpoint had moved (another writer got there first) and nothing was written."""
    appended: AppendResult | None = None
    """Where the outputs landed (None when there were none or nothing was saved)."""
    revision: int = 0
    """The checkpoint row's revision after this commit (every commit bumps it; 0: not saved)."""


class EventStore(Protocol):
    """Append-only log of athlete streams plus the projection table."""

    def append(
        self, stream: str, events: Sequence[NewEvent], expected_version: int | None = None
    ) -> AppendResult:
        """Append a batch atomically; idempotent by event id; optional optimistic concurrency."""

    def read_stream(
        self, stream: str, from_version: int = 1, limit: int | None = None
    ) -> list[Envelope]: ...

    def stream_version(self, stream: str) -> int: ...

    def iter_all(self, from_position: int = 0, batch_size: int = 1000) -> Iterator[Envelope]:
        """Every event with position > from_position, in global order, streamed in batches."""

    def iter_raw(self, from_position: int = 0, batch_size: int = 1000) -> Iterator[list[tuple]]:
        """``iter_all`` as undecoded rows, one list per batch, the same shape on every backend:
        (position, event_id as 16 bytes, stream, version, type, occurred_at and recorded_at as epoch
        microseconds, correlation_id and causation_id as 16 bytes or None, source, payload bytes).
        ``engine.store.sqlite.row_to_envelope`` decodes one (replay ships raw batches to workers)."""

    def last_position(self) -> int:
        """The global position of the last committed event (0 for an empty store)."""

    def stream_heads(self) -> Iterator[StreamHead]: ...

    def get_event(self, event_id: uuid.UUID) -> Envelope | None: ...

    def load_projection(self, athlete_id: str, name: str) -> ProjectionRecord | None: ...

    def save_projection(
        self, athlete_id: str, name: str, state: bytes, checkpoint: int, expected_checkpoint: int | None
    ) -> bool:
        """Compare-and-set: saved only if the stored checkpoint is still ``expected_checkpoint``
        (``None``: no row yet). Returns False when another writer got there first."""

    def commit_projection(
        self, athlete_id: str, name: str, checkpoint: int, expected_checkpoint: int | None,
        state: bytes | None = None, output_stream: str | None = None, outputs: Sequence[NewEvent] = (),
        expected_revision: int | None = None,
    ) -> ProjectionCommit:
        """One transaction: append ``outputs`` to ``output_stream`` (idempotent by event id, as
        :meth:`append`), move the checkpoint from ``expected_checkpoint`` to ``checkpoint``
        (compare-and-set, on ``expected_revision`` too when given; every commit bumps the revision)
        and, if ``state`` is given, save it as the snapshot at ``checkpoint``. Nothing at all is
        written when the checkpoint had moved (``saved`` False)."""

    def projection_checkpoint(self, athlete_id: str, name: str) -> tuple[int, int] | None:
        """One projection's (checkpoint, revision) (None: none saved), read without its state."""

    def projection_checkpoints(self, name: str) -> dict[str, int]:
        """Athlete -> checkpoint of every saved ``name`` projection (the sweeper compares heads),
        read from a narrow table: no state blob is touched."""

    def delete_projections(self, name: str, athlete_id: str | None = None) -> None:
        """Drop saved projection state and checkpoints (a rebuild starts from scratch). Events are untouched."""

    def close(self) -> None: ...


# -- idempotency rules shared by every backend ------------------------------------------------

def first_repeat(ids: list[uuid.UUID]) -> uuid.UUID:
    seen: set[uuid.UUID] = set()
    for i in ids:
        if i in seen:
            return i
        seen.add(i)
    raise AssertionError("no repeat")


class Partition(msgspec.Struct, frozen=True):
    """A batch split by idempotency: what an earlier append already stored, and what is new."""

    stored: dict[int, StoredEvent]
    """Batch index -> where an earlier append put that event (same id, stream and content)."""
    new: list[int]
    """Batch indices to write now, in batch order."""


def partition(stream, ids, payloads, occurred, existing) -> Partition:
    """Split a batch into already-stored and new events (an offline queue re-sends a superset of an
    earlier batch). A stored id must come back with the same stream, time and payload."""
    stored: dict[int, StoredEvent] = {}
    new: list[int] = []
    for index, (event_id, payload, occ) in enumerate(zip(ids, payloads, occurred)):
        row = existing.get(event_id.bytes)
        if row is None:
            new.append(index)
            continue
        old_stream, version, position, old_occ, old_payload = row
        if old_stream != stream:
            raise IdempotencyConflict(event_id, f"in stream {old_stream!r}, not {stream!r}")
        if old_occ != occ or old_payload != payload:
            raise IdempotencyConflict(event_id, "with a different payload or occurred_at")
        stored[index] = StoredEvent(event_id, version, position)
    return Partition(stored, new)


def check_expected_version(stream: str, expected: int | None, version: int, split: Partition) -> None:
    """``expected_version`` is the version the client saw before its first send: a re-sent
    superset still matches when the events it already stored are exactly the stream's tail."""
    if expected is None or expected == version:
        return
    if split.stored:
        versions = sorted(e.version for e in split.stored.values())
        if versions == list(range(version - len(versions) + 1, version + 1)) and \
                expected == version - len(versions):
            return
    raise VersionConflict(stream, expected, version)


def merged(stream: str, split: Partition, written: list[StoredEvent]) -> AppendResult:
    """The answer in batch order: stored-before events and the ones written now."""
    places = dict(split.stored)
    places.update(zip(split.new, written))
    return AppendResult(stream, [places[i] for i in range(len(places))], deduplicated=not written,
                        duplicates=frozenset(split.stored))

