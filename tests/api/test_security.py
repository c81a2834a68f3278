"""API keys: 401 without a valid key, 403 without the scope; keys hashed, revocable, never logged."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from api_support import enrolment, pain

from engine.keys import KeyStore

ATHLETE = "ath-sec"

# (name, method, path, required scope, success status); bodies are built per request below.
ENDPOINTS = [
    ("append", "POST", f"/v1/athletes/{ATHLETE}/events", "ingest", 201),
    ("events", "GET", f"/v1/athletes/{ATHLETE}/events", "read", 200),
    ("view", "GET", f"/v1/athletes/{ATHLETE}/view", "read", 200),
    ("recommendations", "GET", f"/v1/athletes/{ATHLETE}/recommendations", "read", 200),
    ("list_keys", "GET", "/v1/admin/keys", "admin", 200),
    ("create_key", "POST", "/v1/admin/keys", "admin", 201),
    ("revoke_key", "DELETE", "/v1/admin/keys/{spare}", "admin", 200),
]
SCOPES = ["ingest", "read", "admin"]


@pytest.fixture
def enrolled(client, admin, clock):
    r = client.post(f"/v1/athletes/{ATHLETE}/events", json={"events": [enrolment(clock.now())]}, headers=admin)
    assert r.status_code == 201


def _call(client, method, path, headers, clock, keys):
    path = path.replace("{spare}", keys.create("spare", ["read"]).record.id)
    if method == "POST" and "events" in path:
        return client.post(path, json={"events": [pain(clock.now())]}, headers=headers)
    if method == "POST":
        return client.post(path, json={"name": "made-by-test", "scopes": ["read"]}, headers=headers)
    return client.request(method, path, headers=headers)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize(("name", "method", "path", "needed", "success"), ENDPOINTS,
                         ids=[e[0] for e in ENDPOINTS])
def test_scope_matrix(client, enrolled, key_for, keys, clock, scope, name, method, path, needed, success):
    """A key reaches an endpoint iff it has the endpoint's scope or admin; otherwise 403."""
    r = _call(client, method, path, key_for(scope), clock, keys)
    if scope in (needed, "admin"):
        assert r.status_code == success, r.text
    else:
        assert r.status_code == 403, r.text
        [error] = r.json()["errors"]
        assert f"`{needed}` scope" in error["reason"] and error["location"] == "header"


@pytest.mark.parametrize(("name", "method", "path", "needed", "success"), ENDPOINTS,
                         ids=[e[0] for e in ENDPOINTS])
def test_no_key_is_401_everywhere(client, enrolled, keys, clock, name, method, path, needed, success):
    """Every /v1 endpoint needs a key: 401 with a challenge and a clear message."""
    r = _call(client, method, path, {}, clock, keys)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "API key is required" in r.json()["errors"][0]["reason"]


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer sl_0123456789ab_" + "A" * 43},
    {"Authorization": "Bearer not-a-key"},
    {"X-API-Key": "sl_nope"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer"},
], ids=["unknown", "malformed", "x-api-key-unknown", "basic-scheme", "empty-bearer"])
def test_an_unknown_or_malformed_key_is_401(client, enrolled, headers):
    """Unknown, malformed or wrong-scheme credentials: 401."""
    r = client.get(f"/v1/athletes/{ATHLETE}/events", headers=headers)
    assert r.status_code == 401
    assert r.json()["errors"][0]["reason"]


def test_the_x_api_key_header_is_accepted(client, enrolled, keys):
    """X-API-Key works as well as Authorization: Bearer."""
    key = keys.create("app", ["read"]).key
    assert client.get(f"/v1/athletes/{ATHLETE}/events", headers={"X-API-Key": key}).status_code == 200


def test_a_revoked_key_is_401(client, enrolled, keys):
    """Revocation takes effect on the next request."""
    issued = keys.create("app", ["read"])
    headers = {"Authorization": f"Bearer {issued.key}"}
    assert client.get(f"/v1/athletes/{ATHLETE}/events", headers=headers).status_code == 200
    keys.revoke(issued.record.id)
    r = client.get(f"/v1/athletes/{ATHLETE}/events", headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["errors"][0]["reason"]


def test_a_key_with_a_wrong_secret_is_401(client, enrolled, keys):
    """The right id with another secret does not authenticate."""
    issued = keys.create("app", ["read"])
    forged = issued.key[:-4] + ("AAAA" if not issued.key.endswith("AAAA") else "BBBB")
    r = client.get(f"/v1/athletes/{ATHLETE}/events", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


def test_keys_are_stored_only_as_sha256_hashes(tmp_path):
    """The key file holds the hash, never the key."""
    store = KeyStore(tmp_path / "k.sqlite3")
    issued = store.create("app", ["ingest"])
    store.close()
    raw = (tmp_path / "k.sqlite3").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("k.sqlite3-*"))
    assert issued.key.encode() not in raw
    rows = sqlite3.connect(tmp_path / "k.sqlite3").execute("SELECT key_hash FROM api_keys").fetchall()
    assert rows == [(hashlib.sha256(issued.key.encode()).hexdigest(),)]


def test_authentication_compares_hashes_in_constant_time(monkeypatch, tmp_path):
    """hmac.compare_digest decides, for known and unknown ids alike."""
    import engine.keys as module

    calls = []
    real = module.hmac.compare_digest
    monkeypatch.setattr(module.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    store = KeyStore(tmp_path / "k.sqlite3")
    issued = store.create("app", ["read"])
    assert store.authenticate(issued.key) is not None
    assert store.authenticate("sl_000000000000_" + "x" * 43) is None
    assert len(calls) == 2


def test_health_ready_and_the_openapi_document_need_no_key(client):
    """Probes and the schema are public."""
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 200
    assert client.get("/schema/openapi.json").status_code == 200


def test_admin_can_create_list_and_revoke_keys_over_http(client, admin):
    """The admin endpoints: the secret is returned once; listing never shows it."""
    created = client.post("/v1/admin/keys", json={"name": "app2", "scopes": ["ingest"]}, headers=admin)
    assert created.status_code == 201
    secret, key_id = created.json()["key"], created.json()["record"]["id"]
    listing = client.get("/v1/admin/keys", headers=admin)
    assert key_id in [k["id"] for k in listing.json()]
    assert secret not in listing.text
    assert client.delete(f"/v1/admin/keys/{key_id}", headers=admin).json()["revoked_at"] is not None
    assert client.get("/v1/admin/keys", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert client.delete("/v1/admin/keys/000000000000", headers=admin).status_code == 404
