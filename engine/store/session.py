"""One small SQL surface over either backend's connection, for the statements that are the same on
SQLite and PostgreSQL (tenancy, data keys, erasure): written with ``?`` placeholders, translated to
``%s`` for psycopg. Not a query builder: just enough to share code between the two stores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.store.actor import Actor
from engine.store.base import AthleteErased, AthleteNotVisible
from engine.store.sealing import athlete_of, new_data_key, projection_aad, seal
from events.envelope import is_recommendation_stream


class SqlSession:
    """A connection (inside or outside a transaction) with ``all``, ``one`` and ``run``."""

    def __init__(self, conn, backend: str) -> None:
        self.conn = conn
        self.backend = backend

    def _q(self, sql: str) -> str:
        return sql if self.backend == "sqlite" else sql.replace("?", "%s")

    def all(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        return self.conn.execute(self._q(sql), params).fetchall()

    def one(self, sql: str, params: tuple | list = ()) -> tuple | None:
        return self.conn.execute(self._q(sql), params).fetchone()

    def run(self, sql: str, params: tuple | list = ()) -> int:
        return self.conn.execute(self._q(sql), params).rowcount


def now_iso(clock) -> str:
    return clock.now().astimezone(dt.timezone.utc).isoformat()


def data_key(db: SqlSession, athlete: str) -> bytes | None:
    row = db.one("SELECT key FROM data_keys WHERE athlete = ?", (athlete,))
    return None if row is None else bytes(row[0])


def data_keys(db: SqlSession, athletes: list[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for start in range(0, len(athletes), 500):
        chunk = athletes[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for athlete, key in db.all(f"SELECT athlete, key FROM data_keys WHERE athlete IN ({marks})", chunk):
            found[athlete] = bytes(key)
    return found


class Admissions:
    """The ``athletes`` rows and data keys of a group commit's athletes, read in one query for the
    whole group (instead of two per batch) inside its transaction; ``admit`` keeps them current as
    it registers athletes and creates keys. (SQLite only: the join is written for it.)"""

    def __init__(self, db: SqlSession, athletes: list[str]) -> None:
        self.rows: dict[str, tuple | None] = {}
        self.keys: dict[str, bytes | None] = {}
        for start in range(0, len(athletes), 500):
            chunk = athletes[start:start + 500]
            values = ",".join(["(?)"] * len(chunk))
            for athlete, registered, org_id, erased_at, key in db.all(
                    f"WITH wanted (athlete) AS (VALUES {values}) "
                    "SELECT w.athlete, a.athlete IS NOT NULL, a.org_id, a.erased_at, k.key FROM wanted w "
                    "LEFT JOIN athletes a ON a.athlete = w.athlete LEFT JOIN data_keys k ON k.athlete = w.athlete",
                    chunk):
                self.rows[athlete] = (org_id, erased_at) if registered else None
                self.keys[athlete] = None if key is None else bytes(key)


def admit(db: SqlSession, stream: str, actor: Actor | None, now: str, known: Admissions | None = None) -> bytes:
    """Inside an append's transaction: refuse an erased athlete (410) or one of another
    organisation (404), register a new athlete in the actor's organisation, and return the
    athlete's data key (created on their first append). ``known``: rows read for a whole group."""
    athlete = athlete_of(stream)
    if known is not None and athlete in known.rows:
        row = known.rows[athlete]
    else:
        row = db.one("SELECT org_id, erased_at FROM athletes WHERE athlete = ?", (athlete,))
    if row is not None and row[1] is not None:
        raise AthleteErased(athlete)
    if actor is not None and actor.org_id:
        if row is None and not is_recommendation_stream(stream):
            db.run("INSERT INTO athletes (athlete, org_id, created_at) VALUES (?, ?, ?)",
                   (athlete, actor.org_id, now))
            if known is not None:
                known.rows[athlete] = (actor.org_id, None)
        elif row is None or row[0] != actor.org_id:
            raise AthleteNotVisible(athlete)
    key = known.keys.get(athlete) if known is not None and athlete in known.keys else data_key(db, athlete)
    if key is None:
        key = new_data_key()
        db.run("INSERT INTO data_keys (athlete, key) VALUES (?, ?)", (athlete, key))
        if known is not None:
            known.keys[athlete] = key
    return key


def projection_key(db: SqlSession, athlete: str) -> tuple[bytes | None, bool]:
    """(data key, erased) for sealing or opening a projection state."""
    key = data_key(db, athlete)
    if key is not None:
        return key, False
    row = db.one("SELECT erased_at FROM athletes WHERE athlete = ?", (athlete,))
    return None, row is not None and row[0] is not None


def sealed_projection(db: SqlSession, athlete: str, name: str, state: bytes) -> bytes | None:
    """A projection state as it is stored: sealed with the athlete's data key (as it is when the
    athlete has none); None for an erased athlete, whose state is never written again."""
    key, erased = projection_key(db, athlete)
    if erased:
        return None
    return state if key is None else seal(key, state, projection_aad(athlete, name))


def move_checkpoint(db: SqlSession, athlete: str, name: str, checkpoint: int, expected: int | None,
                    expected_revision: int | None) -> int | None:
    """Compare-and-set of the checkpoint row (``expected`` None: there must be no row yet; a
    revision, when given, must match too): the new revision, or None when the row had moved."""
    if expected is None:
        row = db.one("INSERT INTO checkpoints (name, athlete, checkpoint) VALUES (?, ?, ?) "
                     "ON CONFLICT DO NOTHING RETURNING revision", (name, athlete, checkpoint))
    else:
        row = db.one("UPDATE checkpoints SET checkpoint = ?, revision = revision + 1 WHERE name = ? AND athlete = ? "
                     "AND checkpoint = ? AND (CAST(? AS BIGINT) IS NULL OR revision = CAST(? AS BIGINT)) "
                     "RETURNING revision", (checkpoint, name, athlete, expected, expected_revision, expected_revision))
    return None if row is None else row[0]


@dataclass(frozen=True)
class Erasure:
    athlete: str
    org_id: str | None
    erased_at: str
    events: int
    """Events (and recommendations) left in the log as ciphertext nobody can open."""
    already: bool = False


def erase(db: SqlSession, athlete: str, *, by_key: str | None, now: str) -> Erasure:
    """Inside a transaction: destroy the data key, tombstone the athlete, purge projections and
    outbox checkpoints, and mark both streams erased (heads stop showing them)."""
    row = db.one("SELECT org_id, erased_at FROM athletes WHERE athlete = ?", (athlete,))
    streams = [athlete, athlete + "/recommendations"]
    (events,) = db.one("SELECT coalesce(sum(version), 0) FROM streams WHERE stream IN (?, ?)", streams)
    if row is not None and row[1] is not None:
        return Erasure(athlete, row[0], row[1], int(events), already=True)
    if row is None:
        db.run("INSERT INTO athletes (athlete, org_id, created_at, erased_at, erased_by) "
               "VALUES (?, NULL, ?, ?, ?)", (athlete, now, now, by_key))
    else:
        db.run("UPDATE athletes SET erased_at = ?, erased_by = ? WHERE athlete = ?", (now, by_key, athlete))
    db.run("DELETE FROM data_keys WHERE athlete = ?", (athlete,))
    db.run("DELETE FROM projections WHERE athlete = ?", (athlete,))
    db.run("DELETE FROM checkpoints WHERE athlete = ?", (athlete,))
    db.run("UPDATE streams SET erased = TRUE WHERE stream IN (?, ?)", streams)
    return Erasure(athlete, None if row is None else row[0], now, int(events))


def erased_athletes(db: SqlSession) -> set[str]:
    return {a for (a,) in db.all("SELECT athlete FROM athletes WHERE erased_at IS NOT NULL")}
