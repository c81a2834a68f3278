"""Versioned PostgreSQL schema migrations: the numbered SQL files beside this module.

``strideline db upgrade`` (or ``PostgresEventStore(..., migrate=True)``) applies the pending files in
order, all in one transaction under an advisory lock: two upgrades racing cannot both apply a file,
and a failing file leaves the schema exactly as it was (PostgreSQL DDL is transactional). Each
applied file is recorded in ``schema_migrations`` with its SHA-256; editing a file after it was
applied is refused. Evolve by adding ``NNNN_name.sql``, never by editing an old one.

Names in the files are unqualified, so the schema is the first one on the connection's
``search_path`` (the tests give every test its own schema that way).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import psycopg

from engine.store.base import StoreError

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x5354524C  # "STRL": the advisory lock class for migrations (second key: the schema)

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(StoreError):
    """The database schema is not the one this code needs (or a migration file was edited)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AppliedMigration:
    version: int
    name: str
    checksum: str
    applied_at: object


@cache
def available() -> tuple[Migration, ...]:
    """Every migration shipped with this code, in version order (1, 2, ... without holes)."""
    found = []
    for entry in resources.files(__package__).iterdir():
        match = _FILE.match(entry.name)
        if match:
            sql = entry.read_text(encoding="utf-8").replace("\r\n", "\n")
            found.append(Migration(int(match[1]), match[2], sql))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migration files must be numbered 1..N without holes, found {versions}")
    return tuple(found)


def latest_version() -> int:
    return available()[-1].version


def applied(conn: psycopg.Connection) -> list[AppliedMigration]:
    """The migrations recorded in this schema (empty when it was never upgraded)."""
    (table,) = conn.execute("SELECT to_regclass('schema_migrations')::text").fetchone()
    if table is None:
        return []
    rows = conn.execute(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    ).fetchall()
    return [AppliedMigration(*row) for row in rows]


def current_version(conn: psycopg.Connection) -> int:
    done = applied(conn)
    return done[-1].version if done else 0


def pending(conn: psycopg.Connection) -> list[Migration]:
    done = {m.version for m in applied(conn)}
    return [m for m in available() if m.version not in done]


def check(conn: psycopg.Connection) -> int:
    """Refuse a schema older than this code; returns the schema version."""
    version = current_version(conn)
    if version < latest_version():
        raise MigrationError(
            f"the PostgreSQL schema is at version {version}, this code needs {latest_version()}: "
            "run `strideline db upgrade`"
        )
    return version


def upgrade(conn: psycopg.Connection) -> list[Migration]:
    """Apply every pending migration in one transaction; returns what was applied (maybe nothing).

    ``conn`` must be in autocommit mode (the store's pool connections are).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (_LOCK_KEY,))
        conn.execute(_BOOKKEEPING)
        done = {m.version: m for m in applied(conn)}
        shipped = {m.version: m for m in available()}
        for version, record in done.items():
            migration = shipped.get(version)
            if migration is not None and migration.checksum != record.checksum:
                raise MigrationError(
                    f"migration {migration.filename} was edited after it was applied "
                    "(checksums differ): add a new migration instead of changing an old one"
                )
        todo = [m for m in available() if m.version not in done]
        for migration in todo:
            conn.execute(migration.sql.encode("utf-8"))
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    return todo
