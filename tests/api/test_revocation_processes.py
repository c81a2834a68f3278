"""Keys live in the shared store: N API processes see a revocation at the next request, with no
cache to expire. Two real `strideline serve` processes on one store, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from engine.keys import KeyStore
from engine.store.factory import open_store
from ports import free_port as _free_port

STRIDELINE = str(Path(sys.executable).with_name("strideline"))


def _status(url: str, key: str | None = None, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method,
                                     headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_healthy(url: str, process: subprocess.Popen, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if _status(url + "/health") == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)  # polling a condition with a bounded deadline
    raise AssertionError(f"{url} did not become healthy")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "shared.sqlite3")
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def two_servers(store_url, tmp_path):
    open_store(store_url, migrate=True).close()
    env = {k: v for k, v in os.environ.items() if k not in {"STRIDELINE_REDIS_URL", "STRIDELINE_KEYS_PATH"}}
    env["STRIDELINE_API_METRICS_PORT"] = "0"
    servers = []
    for name in ("a", "b"):
        port = _free_port()
        log = open(tmp_path / f"serve-{name}.log", "wb")
        process = subprocess.Popen([STRIDELINE, "serve", "--port", str(port), "--store", store_url],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        servers.append((f"http://127.0.0.1:{port}", process, log))
    try:
        for url, process, _ in servers:
            _wait_healthy(url, process)
        yield [url for url, _, _ in servers]
    finally:
        for _, process, log in servers:
            process.terminate()
            process.wait(timeout=20)
            log.close()


def test_a_key_revoked_through_one_process_is_refused_by_the_other(two_servers, store_url):
    """Given two API processes on one store and a read key working on both, when an admin revokes
    it through the first, then the second answers 401 to its very next request."""
    keys = KeyStore(store_url)
    keys.orgs.create("acme")
    admin = keys.create("ops", ["admin"], org="acme").key
    reader = keys.create("app", ["read"], org="acme")
    keys.close()
    first, second = two_servers
    assert [_status(f"{url}/v1/athletes", reader.key) for url in (first, second)] == [200, 200]
    assert _status(f"{first}/v1/admin/keys/{reader.record.id}", admin, "DELETE") == 200
    assert _status(f"{second}/v1/athletes", reader.key) == 401
