"""Versioned PostgreSQL migrations and the `strideline db` commands."""

from __future__ import annotations

import json

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from engine.commands import db as db_commands
from engine.store import migrations
from engine.store.migrations import Migration, MigrationError
from engine.store.postgres import PostgresEventStore


def tables(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {t for (t,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}


def upgrade(url: str) -> list[Migration]:
    with psycopg.connect(url, autocommit=True) as conn:
        return migrations.upgrade(conn)


def cli(*args: str):
    app = typer.Typer()
    db_commands.register(app)
    return CliRunner().invoke(app, ["db", *args])


def test_shipped_migrations_are_numbered_from_one_without_holes():
    """The SQL files beside the runner are versions 1..N."""
    versions = [m.version for m in migrations.available()]
    assert versions == list(range(1, len(versions) + 1))
    assert migrations.available()[0].filename == "0001_initial.sql"


@pytest.mark.postgres
def test_store_refuses_a_schema_that_was_never_upgraded(pg_schema_url):
    """Opening a store on an empty schema fails, telling the operator to run db upgrade."""
    with pytest.raises(MigrationError, match="strideline db upgrade"):
        PostgresEventStore(pg_schema_url)


@pytest.mark.postgres
def test_upgrade_applies_every_migration_once_and_records_it(pg_schema_url):
    """A first upgrade applies all files in order and records them; a second applies nothing."""
    applied = upgrade(pg_schema_url)
    assert [m.version for m in applied] == [m.version for m in migrations.available()]
    assert {"events", "streams", "projections", "log_head", "schema_migrations"} <= tables(pg_schema_url)
    assert upgrade(pg_schema_url) == []
    with psycopg.connect(pg_schema_url, autocommit=True) as conn:
        recorded = migrations.applied(conn)
    assert [(r.version, r.checksum) for r in recorded] == [
        (m.version, m.checksum) for m in migrations.available()]
    PostgresEventStore(pg_schema_url).close()


@pytest.mark.postgres
def test_upgrade_refuses_an_applied_migration_that_was_edited(pg_schema_url):
    """If an applied file no longer matches its recorded checksum, upgrade stops and says why."""
    upgrade(pg_schema_url)
    with psycopg.connect(pg_schema_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    with pytest.raises(MigrationError, match="0001_initial.sql was edited"):
        upgrade(pg_schema_url)


@pytest.mark.postgres
def test_failing_migration_leaves_the_schema_as_it_was(pg_schema_url, monkeypatch):
    """Pending files apply in one transaction: if one fails, none of them is applied."""
    broken = Migration(2, "broken", "CREATE TABLE half_done (x int); SELECT 1 / 0;")
    shipped = migrations.available()
    monkeypatch.setattr(migrations, "available", lambda: (*shipped, broken))
    with pytest.raises(psycopg.errors.DivisionByZero):
        upgrade(pg_schema_url)
    assert tables(pg_schema_url) == set()


@pytest.mark.postgres
def test_concurrent_upgrades_apply_each_migration_once(pg_schema_url):
    """Two upgrades racing (two deploys starting) serialise on an advisory lock: no error, no
    migration applied twice."""
    import threading

    gate = threading.Barrier(2)
    results: list = []

    def run() -> None:
        gate.wait()
        try:
            results.append(len(upgrade(pg_schema_url)))
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, len(migrations.available())]


@pytest.mark.postgres
def test_db_upgrade_then_info_on_postgresql(pg_schema_url):
    """`strideline db info` shows pending migrations; `db upgrade` applies them; info shows none."""
    before = json.loads(cli("info", "--url", pg_schema_url, "--json").output)
    assert (before["schema_version"], before["pending"]) == (0, [m.filename for m in migrations.available()])
    upgraded = cli("upgrade", "--url", pg_schema_url)
    assert upgraded.exit_code == 0 and "applied 0001_initial.sql" in upgraded.output
    after = json.loads(cli("info", "--url", pg_schema_url, "--json").output)
    assert after["schema_version"] == migrations.latest_version() and after["pending"] == []
    assert (after["last_position"], after["synchronous_commit"]) == (0, "on")


def test_db_upgrade_then_info_on_sqlite(tmp_path):
    """On SQLite, `db upgrade` creates the file's schema and `db info` reads it (WAL, FULL)."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    assert "no database file yet" in cli("info", "--url", url).output
    assert cli("upgrade", "--url", url).exit_code == 0
    facts = json.loads(cli("info", "--url", url, "--json").output)
    assert (facts["journal_mode"], facts["synchronous"], facts["last_position"]) == ("wal", "FULL", 0)


def test_db_commands_refuse_an_unknown_url_scheme():
    """A URL that names neither backend is an error with exit code 1."""
    result = cli("info", "--url", "mysql://somewhere/db")
    assert result.exit_code == 1 and "unsupported store URL scheme" in result.output
