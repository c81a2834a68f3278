"""Event store adapters: the contract (base) and its backends."""

from engine.store.base import (
    AppendResult,
    EventStore,
    IdempotencyConflict,
    ProjectionRecord,
    StoreError,
    StoredEvent,
    StreamHead,
    VersionConflict,
)
from engine.store.sqlite import SQLiteEventStore

__all__ = ["AppendResult", "EventStore", "IdempotencyConflict", "ProjectionRecord", "SQLiteEventStore",
           "StoreError", "StoredEvent", "StreamHead", "VersionConflict"]
