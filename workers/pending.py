"""Wake-up coalescing: at most one wake-up message waits per athlete (and per delivery channel).

``mark`` says whether a message must be sent (nothing was pending); the receiving actor clears the
mark. The projector clears it *before* it reads the stream, so an event appended after that sends a
fresh wake-up; a notifier clears it after its delivery and then re-checks the stream head. Marks
expire (a TTL), so a message lost with its mark still set delays work by at most the TTL; the
sweeper heals it.

* ``LocalPending`` - in-process (the embedded default, StubBroker).
* ``RedisPending`` - shared by every ingest and worker process: one key per mark,
  ``strideline:pending:<what>``, set with ``SET NX PX``.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis

from workers import keys


class PendingSet(Protocol):
    def mark(self, key: str, ttl_ms: int | None = None) -> bool:
        """True if ``key`` was not pending (so a wake-up must be sent)."""

    def clear(self, key: str) -> None: ...


class LocalPending:
    """In-process pending set (the embedded default)."""

    def __init__(self) -> None:
        self._pending: dict[str, float] = {}
        self._lock = threading.Lock()

    def mark(self, key: str, ttl_ms: int | None = None) -> bool:
        now = time.monotonic()
        with self._lock:
            expires = self._pending.get(key)
            if expires is not None and expires > now:
                return False
            self._pending[key] = now + ttl_ms / 1000 if ttl_ms else float("inf")
            return True

    def clear(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)


class RedisPending:
    """One Redis key per mark; ``SET NX PX`` so concurrent ingest processes send one message."""

    def __init__(self, client: redis.Redis, default_ttl_ms: int = 300_000) -> None:
        self.client = client
        self.default_ttl_ms = default_ttl_ms

    def mark(self, key: str, ttl_ms: int | None = None) -> bool:
        return bool(self.client.set(keys.PENDING + key, b"1", nx=True, px=ttl_ms or self.default_ttl_ms))

    def clear(self, key: str) -> None:
        self.client.delete(keys.PENDING + key)
