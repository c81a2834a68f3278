"""The API's core contract on every store backend: SQLite and real PostgreSQL (a fresh schema per
test, dropped after; skipped locally without a server, required under CI=true)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from api_support import enrolment, injury, lift, pain
from litestar.testing import TestClient

from engine.api import create_app
from engine.runtime import build_runtime
from engine.store.factory import open_store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'events.sqlite3'}"
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"api_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def backend_client(backend_url, clock, keys) -> Iterator[tuple[TestClient, object]]:
    store = open_store(backend_url, clock, migrate=True)
    app = create_app(build_runtime(store=store, clock=clock), start_workers=True, keys=keys)
    with TestClient(app, timeout=40) as c:
        yield c, store
    store.close()


def test_the_append_and_read_contract_holds_on_every_backend(backend_client, admin, clock):
    """201, 200 deduplicated, 409 stale, 422 stores nothing, pages, and the live view."""
    client, store = backend_client
    url = "/v1/athletes/ath-b/events"
    batch = [enrolment(clock.now()), injury(clock.now()), lift(clock.now())]
    assert client.post(url, json={"events": batch, "expected_version": 0}, headers=admin).status_code == 201
    retry = client.post(url, json={"events": batch}, headers=admin)
    assert retry.status_code == 200 and retry.json()["deduplicated"] is True
    stale = client.post(url, json={"events": [pain(clock.now())], "expected_version": 1}, headers=admin)
    assert stale.status_code == 409 and stale.json()["actual_version"] == 3
    bad = client.post(url, json={"events": [pain(clock.now()), pain(clock.now(), score=-1)]}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "$.events[1].data.score"
    assert store.stream_version("ath-b") == 3
    page = client.get(url, params={"limit": 2}, headers=admin).json()
    assert [e["version"] for e in page["events"]] == [1, 2] and page["next_from_version"] == 3
    view = client.get("/v1/athletes/ath-b/view", params={"min_version": 3, "wait": 30}, headers=admin).json()
    assert view["version"] == 3 and view["capacity"]["best_e1rm_kg"]["squat"] > 0
