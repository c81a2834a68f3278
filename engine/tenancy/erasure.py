"""Erasing an athlete (GDPR article 17) by crypto-shredding: the log keeps its rows, nobody can
read them.

1. In the store, one transaction: the athlete's data key is destroyed, their projections and
   delivery outboxes are purged, the athlete is tombstoned (later appends: 410) and their streams
   leave the stream heads (sweepers, replay, export and rebuild pass them over and count them).
   SQLite then zeroes and truncates its WAL; PostgreSQL rewrites the key table.
2. In Redis: the recommendation stream entries (the default stream and the organisation's), the
   dead-letter entries and the dramatiq dead-letter messages naming the athlete, and their pending
   wake-up markers, are deleted.
"""

from __future__ import annotations

from typing import Any

import msgspec

from engine.store.session import Erasure

REDIS_PREFIX = "strideline:"
DEFAULT_STREAMS = ("strideline:recommendations", "strideline:dead_letters")
SCAN_BATCH = 500


class ErasureReport(msgspec.Struct, frozen=True, kw_only=True):
    athlete_id: str
    erased_at: str
    events_unreadable: int
    already_erased: bool
    redis_entries_deleted: int
    wal_truncated: bool = True


def erase_athlete(store: Any, athlete_id: str, *, by_key: str | None = None,
                  redis_url: str | None = None, extra_streams: tuple[str, ...] = ()) -> ErasureReport:
    """Erase everywhere this process can reach (the store, and Redis when ``redis_url`` is set)."""
    result: Erasure = store.erase_athlete(athlete_id, by_key=by_key)
    streams = list(DEFAULT_STREAMS) + list(extra_streams) + _org_stream(store, result.org_id)
    deleted = purge_redis(redis_url, athlete_id, streams) if redis_url else 0
    return ErasureReport(athlete_id=athlete_id, erased_at=result.erased_at, events_unreadable=result.events,
                         already_erased=result.already, redis_entries_deleted=deleted)


def _org_stream(store: Any, org_id: str | None) -> list[str]:
    if org_id is None:
        return []
    with store.sql_session() as db:
        row = db.one("SELECT redis_stream FROM orgs WHERE id = ?", (org_id,))
    return [row[0]] if row and row[0] else []


def purge_redis(redis_url: str, athlete_id: str, streams: list[str]) -> int:
    """Delete every Redis entry that names the athlete; returns how many."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=10)
    needle = athlete_id.encode()
    deleted = 0
    try:
        for stream in dict.fromkeys(streams):
            deleted += _purge_stream(client, stream, needle)
        for key in client.scan_iter(match="dramatiq:*.XQ.msgs", count=SCAN_BATCH):
            doomed = [field for field, body in client.hgetall(key).items() if _names(body, needle)]
            if doomed:
                deleted += client.hdel(key, *doomed)
                queue = key.decode().removesuffix(".msgs")
                client.zrem(queue, *doomed)
        for key in client.scan_iter(match=f"{REDIS_PREFIX}pending:*", count=SCAN_BATCH):
            if key.decode().endswith(":" + athlete_id):
                deleted += client.delete(key)
    finally:
        client.close()
    return deleted


def _purge_stream(client, stream: str, needle: bytes) -> int:
    deleted, start = 0, "-"
    while True:
        entries = client.xrange(stream, min=start, max="+", count=SCAN_BATCH)
        doomed = [entry_id for entry_id, fields in entries
                  if any(_names(v, needle) for v in fields.values())]
        if doomed:
            deleted += client.xdel(stream, *doomed)
        if len(entries) < SCAN_BATCH:
            return deleted
        last = entries[-1][0].decode()
        start = "(" + last


def _names(value: bytes, needle: bytes) -> bool:
    """Does a Redis value name the athlete (as a whole id, not a prefix of a longer one)?"""
    at = value.find(needle)
    while at >= 0:
        before = value[at - 1:at]
        after = value[at + len(needle):at + len(needle) + 1]
        if not (before.isalnum() or before in (b"_", b"-")) and not (after.isalnum() or after in (b"_", b"-")):
            return True
        at = value.find(needle, at + 1)
    return False
