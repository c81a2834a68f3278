"""Wake-up coalescing: at most one projector message waits per athlete.

``wake`` sends only if the athlete has no message pending; the projector clears the mark *before*
it reads the stream, so an event appended after that sends a fresh wake-up. A lost message leaves
a stale mark: the sweeper ignores marks, so it heals that too.
"""

from __future__ import annotations

import threading
from typing import Protocol


class PendingSet(Protocol):
    def mark(self, athlete_id: str) -> bool:
        """True if the athlete was not pending (so a wake-up must be sent)."""

    def clear(self, athlete_id: str) -> None: ...


class LocalPending:
    """In-process pending set (the embedded default)."""

    def __init__(self) -> None:
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def mark(self, athlete_id: str) -> bool:
        with self._lock:
            if athlete_id in self._pending:
                return False
            self._pending.add(athlete_id)
            return True

    def clear(self, athlete_id: str) -> None:
        with self._lock:
            self._pending.discard(athlete_id)
