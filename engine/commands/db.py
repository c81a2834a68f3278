"""`strideline db`: schema upgrades and a look at the event store.

    strideline db upgrade [--store URL]   apply pending PostgreSQL migrations (SQLite: create the schema)
    strideline db info [--store URL]      backend, schema version, pending migrations, sizes

``--store`` (formerly ``--url``, still accepted) defaults to ``STRIDELINE_STORE_URL``, then to the
SQLite file var/strideline.sqlite3.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import typer

from engine.commands.options import chosen, hidden_alias, store_option
from engine.store.base import StoreError
from engine.store.factory import backend_of, redact, resolve_url, sqlite_target

db_app = typer.Typer(help="Event store schema: upgrade and inspect.", no_args_is_help=True)

StoreOption = store_option()
UrlAlias = hidden_alias("--url")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@db_app.command("upgrade")
def upgrade(store: str | None = StoreOption, url: str | None = UrlAlias) -> None:
    """Apply pending schema migrations (PostgreSQL); create the schema if missing (SQLite)."""
    resolved = _resolve(chosen(store, url))
    if backend_of(resolved) == "sqlite":
        from engine.store.sqlite import SQLiteEventStore

        path, _ = sqlite_target(resolved)
        SQLiteEventStore(path).close()
        typer.echo(f"sqlite {path}: schema ready (SQLite creates its schema when the store opens)")
        return
    import psycopg

    from engine.store import migrations

    try:
        with psycopg.connect(resolved, autocommit=True, connect_timeout=10) as conn:
            done = migrations.upgrade(conn)
            version = migrations.current_version(conn)
    except (StoreError, psycopg.Error) as exc:
        _fail(f"{redact(resolved)}: {exc}")
    for migration in done:
        typer.echo(f"applied {migration.filename}")
    typer.echo(f"postgresql {redact(resolved)}: schema at version {version}"
               + ("" if done else " (already up to date)"))


@db_app.command("info")
def info(
    store: str | None = StoreOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    url: str | None = UrlAlias,
) -> None:
    """Show the backend, schema version, pending migrations and how much the store holds."""
    resolved = _resolve(chosen(store, url))
    try:
        facts = _sqlite_info(resolved) if backend_of(resolved) == "sqlite" else _postgres_info(resolved)
    except (StoreError, sqlite3.Error) as exc:
        _fail(str(exc))
    except Exception as exc:  # psycopg errors, without importing psycopg for SQLite users
        if type(exc).__module__.startswith("psycopg"):
            _fail(f"{redact(resolved)}: {exc}")
        raise
    if as_json:
        typer.echo(json.dumps(facts, default=str))
        return
    for key, value in facts.items():
        if isinstance(value, list):
            value = ", ".join(map(str, value)) or "-"
        typer.echo(f"{key + ':':<20}{value}")


def _resolve(url: str | None) -> str:
    resolved = resolve_url(url)
    try:
        backend_of(resolved)
    except ValueError as exc:
        _fail(str(exc))
    return resolved


def _sqlite_info(url: str) -> dict[str, Any]:
    path, synchronous = sqlite_target(url)
    facts: dict[str, Any] = {"backend": "sqlite", "path": path, "synchronous": synchronous}
    if path == ":memory:":
        facts["status"] = "in memory: nothing outlives the process"
        return facts
    if not Path(path).exists():
        facts["status"] = "no database file yet (created on first use)"
        return facts
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        facts["journal_mode"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
        facts.update(_counts(conn.execute))
    return facts


def _postgres_info(url: str) -> dict[str, Any]:
    import psycopg

    from engine.store import migrations

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        version = migrations.current_version(conn)
        facts: dict[str, Any] = {
            "backend": "postgresql",
            "url": redact(url),
            "server_version": conn.execute("SHOW server_version").fetchone()[0],
            "schema": conn.execute("SELECT current_schema()").fetchone()[0],
            "synchronous_commit": conn.execute("SHOW synchronous_commit").fetchone()[0],
            "schema_version": version,
            "latest_version": migrations.latest_version(),
            "pending": [m.filename for m in migrations.pending(conn)],
        }
        if version:
            facts.update(_counts(conn.execute))
    return facts


def _counts(execute) -> dict[str, int]:
    def one(sql: str) -> int:
        return execute(sql).fetchone()[0]

    return {
        "last_position": one("SELECT coalesce(max(position), 0) FROM events"),
        "streams": one("SELECT count(*) FROM streams"),
        "projections": one("SELECT count(*) FROM projections"),
    }
