"""Wake-up marks: "a wake-up for <what> is on its way", so a burst of appends sends one message.

A mark is a lease, not a lock: it records when it was set, and a mark older than the bound its
caller gives (``ttl_ms``) no longer holds anything back. Whatever orphaned it (a process killed
between marking and sending, a message lost with Redis, a Redis call that timed out on the client
but ran later), the next wake-up or the sweeper sends again once the bound has passed.

On Redis, marking and enqueueing are one Lua script (:meth:`RedisPending.mark_and_enqueue`, writing
dramatiq's own queue keys as its ``dispatch.lua`` does): both happen or neither does.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis

from workers import keys


class PendingSet(Protocol):
    def mark(self, key: str, ttl_ms: int) -> bool:
        """Set the mark unless one younger than ``ttl_ms`` exists; True if set (send a wake-up)."""

    def touch(self, key: str, ttl_ms: int) -> None:
        """Renew the mark: the work it stands for is alive (a delivery attempt)."""

    def clear(self, key: str) -> None: ...


class LocalPending:
    """In-process marks (the embedded default)."""

    def __init__(self) -> None:
        self._set_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def mark(self, key: str, ttl_ms: int) -> bool:
        now = time.monotonic()
        with self._lock:
            set_at = self._set_at.get(key)
            if set_at is not None and now - set_at < ttl_ms / 1000:
                return False
            self._set_at[key] = now
            return True

    def touch(self, key: str, ttl_ms: int) -> None:
        with self._lock:
            self._set_at[key] = time.monotonic()

    def clear(self, key: str) -> None:
        with self._lock:
            self._set_at.pop(key, None)


# KEYS: mark [, queue list, queue messages hash]; ARGV: bound_ms [, redis message id, message data].
# Times are Redis's own (TIME), so clocks of the processes involved do not matter.
_MARK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local bound = tonumber(ARGV[1])
local set_at = redis.call('GET', KEYS[1])
if set_at and now - tonumber(set_at) < bound then
    return 0
end
redis.call('SET', KEYS[1], string.format('%d', now), 'PX', 2 * bound)
if #KEYS == 3 then
    redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
    redis.call('RPUSH', KEYS[2], ARGV[2])
end
return 1
"""

_TOUCH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], string.format('%d', now), 'PX', 2 * tonumber(ARGV[1]))
return 1
"""


class RedisPending:
    """One Redis key per mark (``strideline:pending:<what>``) holding when it was set, shared by
    every ingest and worker process."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._mark = client.register_script(_MARK)
        self._touch = client.register_script(_TOUCH)

    def mark(self, key: str, ttl_ms: int) -> bool:
        return bool(self._mark(keys=[keys.PENDING + key], args=[ttl_ms]))

    def mark_and_enqueue(self, key: str, ttl_ms: int, namespace: str, queue: str, message_id: str,
                         data: bytes) -> bool:
        """:meth:`mark` and, only if marked, push the message onto dramatiq's queue, atomically."""
        queue_key = f"{namespace}:{queue}"
        return bool(self._mark(keys=[keys.PENDING + key, queue_key, queue_key + ".msgs"],
                               args=[ttl_ms, message_id, data]))

    def mark_and_enqueue_many(self, items: list[tuple[str, int, str, str, str, bytes]],
                              clear: str | None = None) -> list[bool]:
        """:meth:`mark_and_enqueue` for several (key, ttl_ms, namespace, queue, message id, data) in
        one round trip (a pipeline of the script; each item is atomic on its own), after clearing
        the mark ``clear`` in the same round trip when given."""
        pipe = self.client.pipeline(transaction=False)
        if clear is not None:
            pipe.delete(keys.PENDING + clear)
        for key, ttl_ms, namespace, queue, message_id, data in items:
            queue_key = f"{namespace}:{queue}"
            self._mark(keys=[keys.PENDING + key, queue_key, queue_key + ".msgs"],
                       args=[ttl_ms, message_id, data], client=pipe)
        replies = pipe.execute()
        return [bool(sent) for sent in (replies[1:] if clear is not None else replies)]

    def touch(self, key: str, ttl_ms: int) -> None:
        self._touch(keys=[keys.PENDING + key], args=[ttl_ms])

    def clear(self, key: str) -> None:
        self.client.delete(keys.PENDING + key)
