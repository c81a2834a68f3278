"""Operating the API: the `keys` and `serve` commands, request ids, and an access log that never
carries health data."""

from __future__ import annotations

import structlog
import typer
from api_support import enrolment, pain
from typer.testing import CliRunner

from engine.commands import keys as keys_command
from engine.commands import serve as serve_command
from engine.keys import KeyStore

runner = CliRunner()


def cli() -> typer.Typer:
    app = typer.Typer()
    keys_command.register(app)
    serve_command.register(app)
    return app


def test_keys_create_prints_the_key_once_and_list_never_shows_it(tmp_path):
    """`keys create` prints a working key; `keys list` shows id, name and scopes only."""
    path = str(tmp_path / "keys.sqlite3")
    created = runner.invoke(cli(), ["keys", "create", "--scope", "ingest", "--scope", "read",
                                    "--name", "app1", "--path", path])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    record = KeyStore(path).authenticate(key)
    assert record is not None and [s.value for s in record.scopes] == ["ingest", "read"]
    listed = runner.invoke(cli(), ["keys", "list", "--path", path])
    assert record.id in listed.output and "app1" in listed.output and "ingest,read" in listed.output
    assert key not in listed.output


def test_keys_revoke_disables_a_key(tmp_path):
    """`keys revoke ID`: the key no longer authenticates; an unknown id exits 1."""
    path = str(tmp_path / "keys.sqlite3")
    issued = KeyStore(path).create("app1", ["read"])
    assert runner.invoke(cli(), ["keys", "revoke", issued.record.id, "--path", path]).exit_code == 0
    assert KeyStore(path).authenticate(issued.key) is None
    assert runner.invoke(cli(), ["keys", "revoke", "000000000000", "--path", path]).exit_code == 1


def test_keys_create_refuses_an_unknown_scope(tmp_path):
    """A typo in a scope is an error naming the valid ones, and creates nothing."""
    path = str(tmp_path / "keys.sqlite3")
    result = runner.invoke(cli(), ["keys", "create", "--scope", "write", "--name", "x", "--path", path])
    assert result.exit_code == 2 and "ingest, read, admin" in result.output
    assert KeyStore(path).list() == []


def test_serve_has_host_and_port_options():
    """`strideline serve --host --port` (defaults 127.0.0.1:8000)."""
    result = runner.invoke(cli(), ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output and "127.0.0.1" in result.output


def test_every_answer_carries_a_request_id(client):
    """X-Request-ID: the client's own when well-formed, a fresh one otherwise."""
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert generated != "bad id with spaces" and len(generated) == 32


def test_the_access_log_has_method_path_template_status_duration_and_request_id_only(client, admin, clock):
    """No bodies, notes, query strings or athlete ids reach the access log; the key id does."""
    note = "knee-pain-note-7f3a"
    with structlog.testing.capture_logs() as logs:
        client.post("/v1/athletes/secret-athlete-42/events", headers={**admin, "X-Request-ID": "req-1"},
                    json={"events": [enrolment(clock.now()), pain(clock.now(), score=4, note=note)]})
        client.get("/v1/athletes/secret-athlete-42/events?from_version=1&limit=7", headers=admin)
        client.post("/v1/athletes/secret-athlete-42/events", headers=admin,
                    json={"events": [pain(clock.now(), score=99, note=note)]})
    access = [entry for entry in logs if entry["event"] == "http_request"]
    assert len(access) == 3
    assert access[0] == {"event": "http_request", "log_level": "info", "method": "POST",
                         "path": "/v1/athletes/{athlete_id}/events", "status": 201,
                         "duration_ms": access[0]["duration_ms"], "request_id": "req-1",
                         "key_id": admin["Authorization"].split("_")[1]}
    assert [e["status"] for e in access] == [201, 200, 422]
    everything = repr(logs)
    for secret in (note, "secret-athlete-42", "limit=7", "score", "Bearer"):
        assert secret not in everything


def test_an_unexpected_error_is_a_500_with_a_body_and_a_log_without_data(client, admin, clock, runtime):
    """The catch-all: a JSON error body, and a log line naming the exception's kind and place."""
    def broken(*args, **kwargs):
        raise RuntimeError("secret-detail-from-the-store")

    enrolled = client.post("/v1/athletes/ath-1/events", json={"events": [enrolment(clock.now())]}, headers=admin)
    assert enrolled.status_code == 201
    runtime.store.stream_version = broken
    with structlog.testing.capture_logs() as logs:
        r = client.get("/v1/athletes/ath-1/events", headers=admin)
    assert r.status_code == 500
    assert r.json()["errors"][0]["reason"].startswith("internal error")
    [error] = [e for e in logs if e["event"] == "http_unhandled_error"]
    assert error["error"] == "RuntimeError" and "secret-detail" not in repr(logs)
