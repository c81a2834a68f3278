"""API fixtures: the real Litestar app around a temp SQLite store holding the organisations and
keys, driven by Litestar's TestClient (in-process ASGI, lifespan included). Keys made by ``key_for``
belong to the organisation ``acme``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from engine.api import create_app
from engine.keys import KeyStore
from engine.runtime import build_runtime
from engine.store import SQLiteEventStore

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def api_store(tmp_path, clock) -> Iterator[SQLiteEventStore]:
    s = SQLiteEventStore(tmp_path / "api.sqlite3", clock=clock, synchronous="NORMAL")
    yield s
    s.close()


@pytest.fixture
def runtime(api_store, clock):
    return build_runtime(store=api_store, clock=clock)


ORG = "acme"


@pytest.fixture
def keys(api_store, clock) -> Iterator[KeyStore]:
    k = KeyStore(api_store, clock=clock, default_org=ORG)
    k.orgs.create(ORG, "Acme Physio")
    yield k
    k.close()


@pytest.fixture
def key_for(keys) -> Callable[..., dict[str, str]]:
    """Headers carrying a fresh key of ``acme`` with the given scopes: ``key_for("read", "ingest")``;
    ``org=`` and ``caseload=`` make one of another organisation or bound to athletes."""
    def make(*scopes: str, org: str = ORG, caseload: list[str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys.create('test', scopes, org=org, caseload=caseload).key}"}
    return make


@pytest.fixture
def admin(key_for) -> dict[str, str]:
    return key_for("admin")


@pytest.fixture
def client(runtime, keys) -> Iterator[TestClient]:
    """The API without workers: appends are stored, nothing is projected."""
    app = create_app(runtime, start_workers=False, keys=keys, max_wait=0.5)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def live_client(runtime, keys) -> Iterator[TestClient]:
    """The API with the in-process pipeline running in its lifespan."""
    app = create_app(runtime, start_workers=True, keys=keys, worker_threads=2)
    with TestClient(app, timeout=40) as c:
        yield c
