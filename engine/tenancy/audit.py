"""The audit trail of one athlete: who appended (the server-set key and organisation of every
stored event) and who read (the access log). Served by ``strideline audit ATHLETE`` and
``GET /v1/athletes/{id}/audit``; it holds key ids, times and endpoint names, never health data."""

from __future__ import annotations

from typing import Any

import msgspec

from engine.clock import from_micros
from events import recommendation_stream


class AppendRecord(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str | None
    """None: appended by the engine (recommendations) or outside the API (CLI, import)."""
    org_id: str | None
    stream: str
    events: int
    first_recorded_at: str
    last_recorded_at: str


class AccessRecord(msgspec.Struct, frozen=True, kw_only=True):
    at: str
    key_id: str
    org_id: str
    action: str


class AuditReport(msgspec.Struct, frozen=True, kw_only=True):
    athlete_id: str
    org_id: str | None
    erased_at: str | None
    appends: list[AppendRecord]
    reads: list[AccessRecord]


def audit(store: Any, athlete_id: str, *, reads_limit: int = 1000) -> AuditReport:
    streams = (athlete_id, recommendation_stream(athlete_id))
    with store.sql_session() as db:
        who = db.one("SELECT org_id, erased_at FROM athletes WHERE athlete = ?", (athlete_id,))
        rows = db.all("SELECT key_id, org_id, stream, count(*), min(recorded_at), max(recorded_at) "
                      "FROM events WHERE stream IN (?, ?) GROUP BY key_id, org_id, stream "
                      "ORDER BY min(position)", streams)
        reads = db.all("SELECT at, key_id, org_id, action FROM access_log WHERE athlete = ? "
                       "ORDER BY id DESC LIMIT ?", (athlete_id, reads_limit))
    return AuditReport(
        athlete_id=athlete_id, org_id=None if who is None else who[0],
        erased_at=None if who is None else who[1],
        appends=[AppendRecord(key_id=k, org_id=o, stream=s, events=n, first_recorded_at=_when(a),
                              last_recorded_at=_when(b)) for k, o, s, n, a, b in rows],
        reads=[AccessRecord(at=at, key_id=k, org_id=o, action=act) for at, k, o, act in reversed(reads)],
    )


def _when(value) -> str:
    """recorded_at is epoch microseconds on SQLite and a timestamptz on PostgreSQL."""
    return (from_micros(value) if isinstance(value, int) else value).isoformat()
