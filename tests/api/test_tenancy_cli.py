"""The tenancy commands: orgs, the one-time import of an old key file, keys bound to an
organisation and a caseload, `strideline audit` and `strideline athletes erase`."""

from __future__ import annotations

import hashlib
import sqlite3

import typer
from api_support import enrolment
from typer.testing import CliRunner

from engine.commands import athletes as athletes_command
from engine.commands import keys as keys_command
from engine.commands import orgs as orgs_command
from engine.ingest import Ingestor
from engine.keys import KeyStore
from engine.store.actor import Actor, acting_as
from engine.store.factory import open_store

runner = CliRunner()


def cli() -> typer.Typer:
    app = typer.Typer()
    keys_command.register(app)
    orgs_command.register(app)
    athletes_command.register(app)
    return app


def run(*args: str):
    result = runner.invoke(cli(), list(args))
    return result


def _old_key_file(path, key: str) -> None:
    """A key file as the pre-0002 KeyStore wrote it."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, scopes TEXT NOT NULL, "
                 "key_hash TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT) WITHOUT ROWID")
    conn.execute("INSERT INTO api_keys VALUES (?, 'legacy-app', 'ingest,read', ?, '2026-01-01T00:00:00+00:00', NULL)",
                 (key.split("_")[1], hashlib.sha256(key.encode()).hexdigest()))
    conn.commit()
    conn.close()


def test_orgs_are_created_and_listed_without_secrets(tmp_path):
    """`orgs create` then `orgs list`: the id and name show; a webhook secret never does."""
    store = str(tmp_path / "s.sqlite3")
    assert run("orgs", "create", "clinic-a", "--name", "Clinic A", "--store", store).exit_code == 0
    assert run("orgs", "create", "Bad Id!", "--store", store).exit_code == 2
    keys = KeyStore(store)
    keys.orgs.configure("clinic-a", webhook_url="https://a.example/hook/tok3n", webhook_secret="s" * 40)
    keys.close()
    listed = run("orgs", "list", "--store", store).output
    assert "clinic-a" in listed and "Clinic A" in listed and "tok3n" not in listed and "s" * 40 not in listed


def test_an_old_key_file_is_imported_once_and_its_keys_keep_working(tmp_path):
    """Given a pre-0002 key file, `keys import` copies its hashed keys into the organisation; the
    same secret authenticates from the store; a second import adds nothing."""
    store, old = str(tmp_path / "s.sqlite3"), tmp_path / "keys.sqlite3"
    key = "sl_0123456789ab_" + "A" * 43
    _old_key_file(old, key)
    run("orgs", "create", "clinic-a", "--store", store)
    first = run("keys", "import", str(old), "--org", "clinic-a", "--store", store)
    assert first.exit_code == 0 and "imported 1 key" in first.output
    assert "imported 0 key" in run("keys", "import", str(old), "--org", "clinic-a", "--store", store).output
    keys = KeyStore(store)
    record = keys.authenticate(key)
    keys.close()
    assert record is not None and record.org_id == "clinic-a" and record.name == "legacy-app"


def test_keys_are_created_for_an_organisation_and_a_caseload(tmp_path):
    """`keys create --org --athlete`: the key is bound to both."""
    store = str(tmp_path / "s.sqlite3")
    run("orgs", "create", "clinic-a", "--store", store)
    created = run("keys", "create", "--name", "coach", "--scope", "read", "--org", "clinic-a",
                  "--athlete", "ath-1", "--athlete", "ath-2", "--path", store)
    assert created.exit_code == 0, created.output
    keys = KeyStore(store)
    record = keys.authenticate(created.stdout.strip().splitlines()[-1])
    keys.close()
    assert (record.org_id, record.caseload) == ("clinic-a", ["ath-1", "ath-2"])
    assert run("keys", "create", "--name", "x", "--scope", "read", "--org", "nope", "--path", store).exit_code == 2


def test_audit_lists_who_appended_and_erase_needs_confirmation(tmp_path, clock):
    """`audit` shows the appending key; `athletes erase` refuses without --yes, then erases, and the
    audit shows the erasure."""
    store_path = str(tmp_path / "s.sqlite3")
    store = open_store(store_path, clock)
    with acting_as(Actor(key_id="abcdefabcdef", org_id="clinic-a")):
        Ingestor(store, clock=clock).append("ath-1", [enrolment(clock.now())])
    store.close()
    shown = run("audit", "ath-1", "--store", store_path).output
    assert "abcdefabcdef" in shown and "clinic-a" in shown
    assert run("athletes", "erase", "ath-1", "--store", store_path).exit_code == 2
    erased = run("athletes", "erase", "ath-1", "--yes", "--store", store_path)
    assert erased.exit_code == 0 and "1 stored event(s) are now unreadable" in erased.output
    assert "erased" in run("audit", "ath-1", "--store", store_path).output
