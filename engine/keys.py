"""API keys: created once, stored only as a SHA-256 hash, checked in constant time.

A key looks like ``sl_<id>_<secret>``: ``id`` (12 hex digits) names the stored record, ``secret`` is
32 random bytes (urlsafe base64). Only ``sha256(key)`` is kept, so a leaked table grants nothing; a
high-entropy secret makes a plain hash enough (no password stretching needed). Lookup is by id, then
``hmac.compare_digest`` on the hashes; an unknown id is compared against a dummy hash, so the time
taken does not tell whether an id exists.

Keys live in the event store's database (SQLite or PostgreSQL, migration 0002) beside their
organisations, so every API host shares them and a revocation is seen by the next request on every
host: each request reads its key's row (no cache). A key belongs to one organisation and may be
bound to a caseload (a set of athletes). ``import_key_file`` brings in a pre-0002 key file once.
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
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

import msgspec

from engine.clock import Clock, SystemClock
from engine.store import session as tenancy_sql
from engine.tenancy.orgs import DEFAULT_ORG, Organisations

LEGACY_KEYS_PATH = Path("var/keys.sqlite3")
KEY_PREFIX = "sl_"
_KEY_SHAPE = re.compile(r"^sl_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_\-]{43})$")
_DUMMY_HASH = hashlib.sha256(b"strideline: no such key").hexdigest()
_COLUMNS = "id, name, scopes, created_at, revoked_at, org_id, caseload"


class Scope(enum.StrEnum):
    """What a key may do. ``admin`` implies the others (within its organisation)."""

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
    org_id: str = DEFAULT_ORG
    caseload: list[str] | None = None
    """The athletes the key is bound to; None: every athlete of its organisation."""

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes

    def covers(self, athlete_id: str) -> bool:
        return self.caseload is None or athlete_id in self.caseload


class IssuedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new key: ``key`` is shown once and never stored."""

    key: str
    record: ApiKey


class UnknownKey(LookupError):
    """No key with that id (in that organisation)."""


class LastAdminKey(ValueError):
    """Revoking this key would leave its organisation without an admin key."""


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


def _open(target: Any, clock: Clock | None) -> tuple[Any, bool]:
    """A store from a store object, a store URL or a SQLite path (None: STRIDELINE_STORE_URL)."""
    if target is not None and hasattr(target, "sql_session"):
        return target, False
    from engine.store.factory import open_store

    return open_store(None if target is None else str(target), clock), True


class KeyStore:
    """API keys in the event store's database."""

    def __init__(self, store: Any = None, *, clock: Clock | None = None,
                 default_org: str = DEFAULT_ORG) -> None:
        """``store``: an open event store, or a store URL / SQLite path to open (closed by
        :meth:`close`); None opens ``$STRIDELINE_STORE_URL`` (default var/strideline.sqlite3).
        ``default_org``: the organisation of keys created without one (created when first used)."""
        self.store, self._owned = _open(store, clock)
        self.default_org = default_org
        self.clock = clock or getattr(self.store, "clock", None) or SystemClock()
        self.orgs = Organisations(self.store, self.clock)

    def close(self) -> None:
        if self._owned:
            self.store.close()

    # -- management ----------------------------------------------------------------------------

    def create(self, name: str, scopes: Iterable[str | Scope], *, org: str | None = None,
               caseload: Iterable[str] | None = None) -> IssuedKey:
        """A new key of ``org`` (default: ``default_org``, created if missing),
        optionally bound to a caseload of athlete ids."""
        name = name.strip()
        if not name or len(name) > 64:
            raise ValueError("a key name must be 1-64 characters")
        parsed = parse_scopes(str(s) for s in scopes)
        org_id = self.orgs.ensure(self.default_org).id if org is None else self.orgs.get(org).id
        athletes = None if caseload is None else sorted(set(caseload))
        if athletes is not None:
            from engine.ingest import ATHLETE_ID

            bad = [a for a in athletes if not ATHLETE_ID.match(a)]
            if bad:
                raise ValueError(f"caseload: {bad[0]!r} is not an athlete id")
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        created = self.clock.now().astimezone(dt.timezone.utc)
        with self.store.sql_transaction() as db:
            db.run(f"INSERT INTO api_keys ({_COLUMNS}, key_hash) VALUES (?,?,?,?,?,?,?,?)",
                   (key_id, name, ",".join(s.value for s in parsed), created.isoformat(), None, org_id,
                    0 if athletes is None else 1, hash_key(key)))
            for athlete in athletes or []:
                db.run("INSERT INTO key_athletes (key_id, athlete) VALUES (?, ?)", (key_id, athlete))
        record = ApiKey(id=key_id, name=name, scopes=parsed, created_at=created, org_id=org_id,
                        caseload=athletes)
        return IssuedKey(key=key, record=record)

    def list(self, *, include_revoked: bool = True, org: str | None = None) -> list[ApiKey]:
        sql, params = f"SELECT {_COLUMNS} FROM api_keys WHERE 1 = 1", []
        if not include_revoked:
            sql += " AND revoked_at IS NULL"
        if org is not None:
            sql += " AND org_id = ?"
            params.append(org)
        with self.store.sql_session() as db:
            rows = db.all(sql + " ORDER BY created_at, id", params)
            return [_record(db, row) for row in rows]

    def get(self, key_id: str, *, org: str | None = None) -> ApiKey | None:
        with self.store.sql_session() as db:
            row = db.one(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))
            record = None if row is None else _record(db, row)
        return None if record is None or (org is not None and record.org_id != org) else record

    def revoke(self, key_id: str, *, org: str | None = None) -> ApiKey:
        """Revoke a key (idempotent: revoking twice keeps the first time). Raises UnknownKey (also
        for a key of another organisation than ``org``) and LastAdminKey."""
        now = self.clock.now().astimezone(dt.timezone.utc).isoformat()
        with self.store.sql_transaction() as db:
            row = db.one("SELECT org_id, scopes, revoked_at FROM api_keys WHERE id = ?", (key_id,))
            if row is None or (org is not None and row[0] != org):
                raise UnknownKey(key_id)
            if row[2] is None and Scope.ADMIN.value in row[1].split(","):
                admins = db.all("SELECT id, scopes FROM api_keys WHERE org_id = ? AND revoked_at IS NULL",
                                (row[0],))
                if sum(Scope.ADMIN.value in s.split(",") for _, s in admins) <= 1:
                    raise LastAdminKey(f"key {key_id} is the last admin key of organisation {row[0]!r}: "
                                       "create another admin key first")
            db.run("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, key_id))
        record = self.get(key_id)
        assert record is not None
        return record

    # -- authentication ------------------------------------------------------------------------

    def authenticate(self, presented: str) -> ApiKey | None:
        """The live key matching ``presented``, or None (malformed, unknown, wrong or revoked).
        Reads the row every time, so a revocation on any host applies to the next request."""
        match = _KEY_SHAPE.match(presented)
        row = None
        with self.store.sql_session() as db:
            if match:
                row = db.one(f"SELECT {_COLUMNS}, key_hash FROM api_keys WHERE id = ?", (match.group("id"),))
            stored_hash = row[7] if row is not None else _DUMMY_HASH
            ok = hmac.compare_digest(hash_key(presented), stored_hash)
            if not ok or row is None or row[4] is not None:
                return None
            return _record(db, row[:7])

    # -- the one-time import of a pre-0002 key file ----------------------------------------------

    def import_key_file(self, path: str | Path, *, org: str | None = None) -> list[str]:
        """Copy the keys of an old per-host key file (hashes, names, scopes, times, revocations)
        into ``org``; keys already imported are left alone. Returns the ids imported."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no key file at {path}")
        org_id = self.orgs.ensure(self.default_org).id if org is None else self.orgs.get(org).id
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as old:
            rows = old.execute("SELECT id, name, scopes, key_hash, created_at, revoked_at FROM api_keys "
                               "ORDER BY created_at, id").fetchall()
        imported = []
        with self.store.sql_transaction() as db:
            for key_id, name, scopes, key_hash, created, revoked in rows:
                if db.one("SELECT 1 FROM api_keys WHERE id = ?", (key_id,)):
                    continue
                parse_scopes(scopes.split(","))
                db.run(f"INSERT INTO api_keys ({_COLUMNS}, key_hash) VALUES (?,?,?,?,?,?,?,?)",
                       (key_id, name, scopes, created, revoked, org_id, 0, key_hash))
                imported.append(key_id)
        return imported


def legacy_key_file() -> Path | None:
    """The old per-host key file, when one is still configured or present."""
    path = Path(os.environ.get("STRIDELINE_KEYS_PATH") or LEGACY_KEYS_PATH)
    return path if path.is_file() else None


def _record(db: tenancy_sql.SqlSession, row: tuple) -> ApiKey:
    key_id, name, scopes, created, revoked, org_id, caseload = row
    athletes = None
    if caseload:
        athletes = [a for (a,) in db.all("SELECT athlete FROM key_athletes WHERE key_id = ? ORDER BY athlete",
                                         (key_id,))]
    return ApiKey(
        id=key_id, name=name, scopes=[Scope(s) for s in scopes.split(",") if s],
        created_at=dt.datetime.fromisoformat(created),
        revoked_at=None if revoked is None else dt.datetime.fromisoformat(revoked),
        org_id=org_id, caseload=athletes,
    )
