"""API fixtures: the real Litestar app around a temp SQLite store and a temp key file, driven by
Litestar's TestClient (in-process ASGI, lifespan included)."""

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


@pytest.fixture
def keys(tmp_path, clock) -> Iterator[KeyStore]:
    k = KeyStore(tmp_path / "keys.sqlite3", clock=clock)
    yield k
    k.close()


@pytest.fixture
def key_for(keys) -> Callable[..., dict[str, str]]:
    """Headers carrying a fresh key with the given scopes: ``key_for("read", "ingest")``."""
    def make(*scopes: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys.create('test', scopes).key}"}
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
