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
    """True when every event was already stored (a retried append): nothing new was written."""

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
    """The last stream version folded into ``state``."""


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

    def projection_checkpoints(self, name: str) -> dict[str, int]:
        """Athlete -> checkpoint of every saved ``name`` projection (the sweeper compares heads)."""

    def delete_projections(self, name: str, athlete_id: str | None = None) -> None:
        """Drop saved projection state (a rebuild starts from scratch). Events are untouched."""

    def close(self) -> None: ...


# -- idempotency rules shared by every backend ------------------------------------------------

def first_repeat(ids: list[uuid.UUID]) -> uuid.UUID:
    seen: set[uuid.UUID] = set()
    for i in ids:
        if i in seen:
            return i
        seen.add(i)
    raise AssertionError("no repeat")


def deduplicated(stream, ids, payloads, occurred, existing) -> AppendResult:
    """A retried append: every id must already be stored with the same content."""
    stored = []
    for event_id, payload, occ in zip(ids, payloads, occurred):
        row = existing.get(event_id.bytes)
        if row is None:
            raise IdempotencyConflict(
                next(uuid.UUID(bytes=b) for b in existing),
                "by an earlier append, and this batch mixes stored and new events",
            )
        old_stream, version, position, old_occ, old_payload = row
        if old_stream != stream:
            raise IdempotencyConflict(event_id, f"in stream {old_stream!r}, not {stream!r}")
        if old_occ != occ or old_payload != payload:
            raise IdempotencyConflict(event_id, "with a different payload or occurred_at")
        stored.append(StoredEvent(event_id, version, position))
    return AppendResult(stream, stored, deduplicated=True)
