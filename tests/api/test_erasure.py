"""Erasure by crypto-shredding, end to end through the API with the pipeline running: after an
athlete whose notes carried a marker is erased, no byte of the marker or of their data key is left
in the database (SQLite files with the WAL; PostgreSQL rows and the key table's file), in Redis
(streams, dead letters, pending markers) or in an export, and every other athlete reads, exports
and re-projects exactly as before. Both backends."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from api_support import enrolment, injury, lift, pain
from litestar.testing import TestClient

from engine.api import create_app
from engine.pipeline import PROJECTION, load_state, project_athlete
from engine.replay.logio import export_log
from engine.runtime import build_runtime
from engine.store.factory import open_store, sqlite_target

VICTIM, OTHER = "ath-erase-me", "ath-stays"
MARKER = "MARKER-left-knee-clinic-note-5e1f"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'erasure.sqlite3'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def api_store(store_url, clock):
    store = open_store(store_url, clock, migrate=True)
    yield store
    store.close()


@pytest.fixture
def app_client(api_store, clock, keys, redis_db):
    app = create_app(build_runtime(store=api_store, clock=clock), start_workers=True, keys=keys,
                     worker_threads=2)
    app.state.api_settings["redis_url"] = redis_db  # erasure purges this Redis
    with TestClient(app, timeout=40) as client:
        yield client


def _log(client, headers, athlete, events) -> int:
    r = client.post(f"/v1/athletes/{athlete}/events", json={"events": events}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["version"]


def _caught_up(client, headers, athlete, version) -> None:
    view = client.get(f"/v1/athletes/{athlete}/view", params={"min_version": version, "wait": 30}, headers=headers)
    assert view.json()["version"] == version


def _seed_redis(url: str, athlete: str) -> None:
    """What the notifiers and dead letters leave in Redis for an athlete."""
    r = redis.Redis.from_url(url)
    for n in range(3):
        r.xadd("strideline:recommendations", {"athlete_id": athlete, "recommendation_id": str(uuid.uuid4()),
                                              "payload": json.dumps({"athlete_id": athlete, "n": n})})
    r.xadd("strideline:dead_letters", {"actor": "notify", "args": json.dumps(["webhook", athlete])})
    r.hset("dramatiq:notify.XQ.msgs", f"m-{athlete}", json.dumps({"args": ["webhook", athlete]}))
    r.zadd("dramatiq:notify.XQ", {f"m-{athlete}": 1})
    r.set(f"strideline:pending:project:{athlete}", 1)
    r.close()


def _redis_dump(url: str) -> bytes:
    r = redis.Redis.from_url(url)
    out = []
    for key in r.scan_iter(count=500):
        kind = r.type(key)
        out.append(key)
        if kind == b"stream":
            out += [repr(e).encode() for e in r.xrange(key)]
        elif kind == b"hash":
            out += [repr(r.hgetall(key)).encode()]
        elif kind == b"zset":
            out += [repr(r.zrange(key, 0, -1)).encode()]
        elif kind == b"string":
            out.append(r.get(key) or b"")
    r.close()
    return b"\n".join(out)


def _database_bytes(store_url: str) -> bytes:
    """SQLite: the database file, its WAL and shared memory, as they are on disk."""
    path = Path(sqlite_target(store_url)[0])
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def _postgres_rows(store_url: str) -> str:
    with psycopg.connect(store_url, autocommit=True) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        return "\n".join(r for t in tables for (r,) in conn.execute(f'SELECT row_to_json(t)::text FROM "{t}" t'))


def _postgres_key_file(store_url: str) -> bytes | None:
    """The data_keys table's file after a checkpoint, when this process may read the server's files
    (same host, root)."""
    with psycopg.connect(store_url, autocommit=True) as conn:
        try:
            conn.execute("CHECKPOINT")
            (directory,) = conn.execute("SHOW data_directory").fetchone()
            (relative,) = conn.execute("SELECT pg_relation_filepath('data_keys')").fetchone()
        except psycopg.Error:
            return None
    path = Path(directory) / relative
    return path.read_bytes() if os.access(path, os.R_OK) else None


def _data_key(store, athlete: str) -> bytes:
    with store.sql_session() as db:
        (key,) = db.one("SELECT key FROM data_keys WHERE athlete = ?", (athlete,))
    return bytes(key)


def test_erasure_leaves_no_plaintext_and_the_rest_replays_unchanged(app_client, api_store, store_url, key_for,
                                                                    redis_db, clock, tmp_path):
    """Given two athletes projected by the pipeline, the victim's notes carrying a marker and their
    recommendations and dead letters in Redis, when an admin erases the victim, then the marker and
    the victim's data key are nowhere, appends and reads answer 410, replay and export skip and
    count the victim, and the other athlete reads, exports and re-projects exactly as before."""
    admin, app = key_for("admin"), key_for("ingest", "read")
    t = clock.now()
    for athlete in (VICTIM, OTHER):
        _log(app_client, app, athlete, [enrolment(t), injury(t)])
        version = _log(app_client, app, athlete, [pain(t, score=3, note=MARKER if athlete == VICTIM else "fine"),
                                                  lift(t, 50)])
        _caught_up(app_client, app, athlete, version)
    _seed_redis(redis_db, VICTIM)
    _seed_redis(redis_db, OTHER)
    events = app_client.get(f"/v1/athletes/{VICTIM}/events", headers=app).json()["events"]
    assert MARKER in json.dumps(events)  # readable before: the search below is not vacuous
    key = _data_key(api_store, VICTIM)
    if store_url.startswith("sqlite"):
        assert MARKER.encode() not in _database_bytes(store_url)  # sealed at rest from the start
        assert key in _database_bytes(store_url)  # the key is findable: its absence below means something
    else:
        key_file = _postgres_key_file(store_url)
        assert key_file is None or key in key_file
    other_before = (api_store.read_stream(OTHER), api_store.read_stream(OTHER + "/recommendations"),
                    api_store.load_projection(OTHER, PROJECTION))

    r = app_client.delete(f"/v1/athletes/{VICTIM}", headers=admin)

    assert r.status_code == 200, r.text
    assert r.json()["events_unreadable"] >= 4 and r.json()["redis_entries_deleted"] >= 6
    assert app_client.get(f"/v1/athletes/{VICTIM}/events", headers=app).status_code == 410
    assert app_client.post(f"/v1/athletes/{VICTIM}/events", json={"events": [pain(t)]},
                           headers=app).status_code == 410
    assert api_store.read_stream(VICTIM) == [] and api_store.load_projection(VICTIM, PROJECTION) is None
    if store_url.startswith("sqlite"):
        on_disk = _database_bytes(store_url)
        assert MARKER.encode() not in on_disk and key not in on_disk
    else:
        assert MARKER not in _postgres_rows(store_url) and key.hex() not in _postgres_rows(store_url)
        key_file = _postgres_key_file(store_url)
        assert key_file is None or key not in key_file
    in_redis = _redis_dump(redis_db)
    assert VICTIM.encode() not in in_redis and MARKER.encode() not in in_redis
    assert OTHER.encode() in in_redis
    exported = tmp_path / "after.jsonl"
    skipped_before = api_store.erased_skipped
    export_log(api_store, exported)
    assert api_store.erased_skipped - skipped_before >= 4
    text = exported.read_text()
    assert MARKER not in text and VICTIM not in text and OTHER in text
    assert (api_store.read_stream(OTHER), api_store.read_stream(OTHER + "/recommendations"),
            api_store.load_projection(OTHER, PROJECTION)) == other_before
    before_state, _ = load_state(api_store, OTHER)
    api_store.delete_projections(PROJECTION, OTHER)
    project_athlete(api_store, OTHER, build_runtime(store=api_store, clock=clock).policy)
    assert load_state(api_store, OTHER)[0] == before_state


def test_erasing_twice_reports_the_first_erasure(client, key_for, clock):
    """Erasure is idempotent: a second DELETE answers 410 (the athlete is gone)."""
    admin = key_for("admin")
    _log(client, admin, VICTIM, [enrolment(clock.now())])
    assert client.delete(f"/v1/athletes/{VICTIM}", headers=admin).status_code == 200
    assert client.delete(f"/v1/athletes/{VICTIM}", headers=admin).status_code == 410
