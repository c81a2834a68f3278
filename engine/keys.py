"""API keys: created once, stored only as a SHA-256 hash, checked in constant time.

A key looks like ``sl_<id>_<secret>``: ``id`` (12 hex digits) names the stored record, ``secret`` is
32 random bytes (urlsafe base64). Only ``sha256(key)`` is kept, so a leaked key file grants nothing;
a high-entropy secret makes a plain hash enough (no password stretching needed). Lookup is by id,
then ``hmac.compare_digest`` on the hashes; an unknown id is compared against a dummy hash, so the
time taken does not tell whether an id exists.

Keys live in a small SQLite file of their own (``STRIDELINE_KEYS_PATH``, default ``var/keys.sqlite3``),
apart from the event log: they are configuration, not history, and revoking one is an update.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import msgspec

from engine.clock import Clock, SystemClock

DEFAULT_KEYS_PATH = Path("var/keys.sqlite3")
KEY_PREFIX = "sl_"
_KEY_SHAPE = re.compile(r"^sl_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_\-]{43})$")
_DUMMY_HASH = hashlib.sha256(b"strideline: no such key").hexdigest()

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    key_hash    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
) WITHOUT ROWID;
"""


class Scope(enum.StrEnum):
    """What a key may do. ``admin`` implies the others."""

    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A stored key's public facts (never its secret or hash)."""

    id: str
    name: str
    scopes: list[Scope]
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes


class IssuedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new key: ``key`` is shown once and never stored."""

    key: str
    record: ApiKey


class UnknownKey(LookupError):
    """No key with that id (revoke of a missing id)."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """Validate scope names; raises ValueError naming the bad one."""
    scopes: list[Scope] = []
    for value in values:
        try:
            scope = Scope(value.strip().lower())
        except ValueError:
            raise ValueError(
                f"unknown scope {value!r}: choose from {', '.join(s.value for s in Scope)}"
            ) from None
        if scope not in scopes:
            scopes.append(scope)
    if not scopes:
        raise ValueError("a key needs at least one scope")
    return scopes


def default_keys_path() -> Path:
    return Path(os.environ.get("STRIDELINE_KEYS_PATH") or DEFAULT_KEYS_PATH)


class KeyStore:
    """API keys in one SQLite file (thread-safe: a connection per thread)."""

    def __init__(self, path: str | Path | None = None, *, clock: Clock | None = None) -> None:
        self.path = str(path if path is not None else default_keys_path())
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock or SystemClock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- management ----------------------------------------------------------------------------

    def create(self, name: str, scopes: Iterable[str | Scope]) -> IssuedKey:
        name = name.strip()
        if not name or len(name) > 64:
            raise ValueError("a key name must be 1-64 characters")
        parsed = parse_scopes(str(s) for s in scopes)
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        created = self.clock.now().astimezone(dt.timezone.utc)
        self._conn().execute(
            "INSERT INTO api_keys (id, name, scopes, key_hash, created_at) VALUES (?,?,?,?,?)",
            (key_id, name, ",".join(s.value for s in parsed), hash_key(key), created.isoformat()),
        )
        return IssuedKey(key=key, record=ApiKey(id=key_id, name=name, scopes=parsed, created_at=created))

    def list(self, *, include_revoked: bool = True) -> list[ApiKey]:
        sql = "SELECT id, name, scopes, created_at, revoked_at FROM api_keys"
        if not include_revoked:
            sql += " WHERE revoked_at IS NULL"
        rows = self._conn().execute(sql + " ORDER BY created_at, id").fetchall()
        return [_record(row) for row in rows]

    def get(self, key_id: str) -> ApiKey | None:
        row = self._conn().execute(
            "SELECT id, name, scopes, created_at, revoked_at FROM api_keys WHERE id = ?", (key_id,)
        ).fetchone()
        return None if row is None else _record(row)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key (idempotent: revoking twice keeps the first time). Raises UnknownKey."""
        now = self.clock.now().astimezone(dt.timezone.utc).isoformat()
        self._conn().execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, key_id)
        )
        record = self.get(key_id)
        if record is None:
            raise UnknownKey(key_id)
        return record

    # -- authentication ------------------------------------------------------------------------

    def authenticate(self, presented: str) -> ApiKey | None:
        """The live key matching ``presented``, or None (malformed, unknown, wrong or revoked)."""
        match = _KEY_SHAPE.match(presented)
        key_id = match.group("id") if match else ""
        row = self._conn().execute(
            "SELECT id, name, scopes, created_at, revoked_at, key_hash FROM api_keys WHERE id = ?",
            (key_id,),
        ).fetchone() if match else None
        stored_hash = row[5] if row is not None else _DUMMY_HASH
        ok = hmac.compare_digest(hash_key(presented), stored_hash)
        if not ok or row is None or row[4] is not None:
            return None
        return _record(row[:5])


def _record(row: tuple) -> ApiKey:
    key_id, name, scopes, created, revoked = row
    return ApiKey(
        id=key_id, name=name, scopes=[Scope(s) for s in scopes.split(",") if s],
        created_at=dt.datetime.fromisoformat(created),
        revoked_at=None if revoked is None else dt.datetime.fromisoformat(revoked),
    )
