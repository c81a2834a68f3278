"""Versioned SQLite schema: ``PRAGMA user_version`` counts the applied steps, like the PostgreSQL
migrations' ``schema_migrations`` (same numbering, same content, SQLite dialect).

Step 1 is the original schema (``IF NOT EXISTS``, so files made before versioning upgrade in place);
later steps run once each, under the store's writer turn, in one transaction.
"""

from __future__ import annotations

import sqlite3

V1 = """
CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,
    event_id       BLOB    NOT NULL UNIQUE,
    stream         TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    occurred_at    INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    correlation_id BLOB,
    causation_id   BLOB,
    source         TEXT    NOT NULL DEFAULT '',
    payload        BLOB    NOT NULL,
    UNIQUE (stream, version)
);
CREATE TABLE IF NOT EXISTS streams (
    stream           TEXT PRIMARY KEY,
    version          INTEGER NOT NULL,
    last_position    INTEGER NOT NULL,
    last_recorded_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projections (
    athlete    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    state      BLOB    NOT NULL,
    checkpoint INTEGER NOT NULL,
    PRIMARY KEY (athlete, name)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS events_are_immutable BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: append a correction instead'); END;
CREATE TRIGGER IF NOT EXISTS events_are_never_deleted BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are never deleted: append a retraction instead'); END;
"""

V2 = """
CREATE TABLE orgs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
    webhook_url TEXT, webhook_secret TEXT, redis_stream TEXT
) WITHOUT ROWID;
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs (id), name TEXT NOT NULL,
    scopes TEXT NOT NULL, key_hash TEXT NOT NULL, caseload INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX api_keys_by_org ON api_keys (org_id, id);
CREATE TABLE key_athletes (
    key_id TEXT NOT NULL REFERENCES api_keys (id), athlete TEXT NOT NULL, PRIMARY KEY (key_id, athlete)
) WITHOUT ROWID;
CREATE TABLE athletes (
    athlete TEXT PRIMARY KEY, org_id TEXT, created_at TEXT NOT NULL, erased_at TEXT, erased_by TEXT
) WITHOUT ROWID;
CREATE INDEX athletes_by_org ON athletes (org_id, athlete);
CREATE TABLE data_keys (athlete TEXT PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE access_log (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, key_id TEXT NOT NULL, org_id TEXT NOT NULL,
    athlete TEXT, action TEXT NOT NULL
);
CREATE INDEX access_log_by_athlete ON access_log (athlete, id);
ALTER TABLE events ADD COLUMN key_id TEXT;
ALTER TABLE events ADD COLUMN org_id TEXT;
ALTER TABLE streams ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;
"""

V3 = """
CREATE TABLE checkpoints (
    name TEXT NOT NULL, athlete TEXT NOT NULL, checkpoint INTEGER NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (name, athlete)
) WITHOUT ROWID;
INSERT INTO checkpoints (name, athlete, checkpoint) SELECT name, athlete, checkpoint FROM projections;
"""
"""Checkpoints in a narrow table: reading them never walks a state blob's overflow pages, and a
checkpoint may run ahead of the saved state (a snapshot), see migrations/0003_checkpoints.sql."""

STEPS = (V1, V2, V3)


def version(conn: sqlite3.Connection) -> int:
    (value,) = conn.execute("PRAGMA user_version").fetchone()
    return value


def upgrade(conn: sqlite3.Connection) -> list[int]:
    """Apply the steps this file has not had yet (the caller holds the writer turn)."""
    done = []
    for number, script in enumerate(STEPS, start=1):
        if version(conn) >= number:
            continue
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        done.append(number)
    return done
