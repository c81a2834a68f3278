"""Abuse limits and safer defaults: requests per key (429 with Retry-After, shared through Redis),
concurrent long-polls per key, private store files, and webhook settings that refuse the weak cases."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest
from api_support import enrolment
from litestar.testing import TestClient

from engine.api import create_app
from engine.store.sqlite import SQLiteEventStore
from engine.tenancy.webhooks import InsecureWebhook, redact_url


def test_a_key_over_its_rate_gets_429_with_retry_after(runtime, keys, key_for):
    """Given a limit of 3 requests a minute, the 4th request of a key is 429 with Retry-After, while
    another key is still served."""
    app = create_app(runtime, start_workers=False, keys=keys, rate_limit_per=("minute", 3))
    busy, other = key_for("read"), key_for("read")
    with TestClient(app) as client:
        statuses = [client.get("/v1/athletes", headers=busy).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = client.get("/v1/athletes", headers=busy)
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert client.get("/v1/athletes", headers=other).status_code == 200
        assert client.get("/health").status_code == 200


def test_the_rate_is_shared_by_api_processes_through_redis(runtime, keys, key_for, redis_db):
    """Given two apps on one Redis with a limit of 3 a minute, requests of one key through both
    count together: the 4th, wherever it lands, is 429."""
    apps = [create_app(runtime, start_workers=False, keys=keys, redis_url=redis_db, rate_limit_per=("minute", 3))
            for _ in range(2)]
    headers = key_for("read")
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        statuses = [c.get("/v1/athletes", headers=headers).status_code for c in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429]


def test_long_polls_are_bounded_per_key(runtime, keys, key_for, clock):
    """Given at most one waiting long-poll per key, a second concurrent one is 429 while the first
    waits; other keys and non-waiting reads are unaffected."""
    app = create_app(runtime, start_workers=False, keys=keys, max_wait=5, max_long_polls=1)
    headers = key_for("ingest", "read")
    with TestClient(app, timeout=20) as client:
        assert client.post("/v1/athletes/ath-poll/events", json={"events": [enrolment(clock.now())]},
                           headers=headers).status_code == 201
        path = "/v1/athletes/ath-poll/recommendations"
        first = threading.Thread(target=client.get, args=(path,), kwargs={"params": {"wait": 3}, "headers": headers})
        first.start()
        gate = app.state.long_polls
        deadline = time.monotonic() + 10
        while not gate._waiting and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a condition with a bounded deadline
        second = client.get(path, params={"wait": 3}, headers=headers)
        immediate = client.get(path, headers=headers)
        first.join()
    assert second.status_code == 429 and second.headers["retry-after"] == "1"
    assert immediate.status_code == 200


def test_store_files_are_private_to_their_owner(tmp_path):
    """A new SQLite store, its WAL and its writers' lock file are created 0600."""
    path = tmp_path / "private.sqlite3"
    store = SQLiteEventStore(path)
    store.sql_transaction  # noqa: B018  (opening the store wrote the schema through the WAL)
    with store.sql_transaction() as db:
        db.run("INSERT INTO orgs (id, name, created_at) VALUES ('x', 'x', 'now')")
    modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in tmp_path.iterdir()}
    store.close()
    assert modes and all(mode == 0o600 for mode in modes.values()), modes


@pytest.mark.parametrize(("url", "secret"), [
    ("http://hooks.example/in", "s" * 32),
    ("https://hooks.example/in", "too-short"),
    ("ftp://hooks.example/in", "s" * 32),
])
def test_weak_webhook_settings_are_refused_unless_allowed(keys, url, secret):
    """http:// URLs and secrets under 32 bytes are refused for an organisation; allowed explicitly
    (a local receiver) except for a URL that is not http(s) at all."""
    with pytest.raises(InsecureWebhook):
        keys.orgs.configure("acme", webhook_url=url, webhook_secret=secret)
    if url.startswith("http"):
        org = keys.orgs.configure("acme", webhook_url=url, webhook_secret=secret, allow_insecure=True)
        assert org.webhook_url == url and org.has_webhook_secret


def test_a_redacted_webhook_url_keeps_only_scheme_and_host():
    """Dead letters and listings show where, not the path or token."""
    assert redact_url("https://hooks.example:8443/in/tok3n?sig=abc") == "https://hooks.example:8443/…"
