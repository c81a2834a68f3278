"""open_store: which backend a URL (or STRIDELINE_STORE_URL, or nothing) selects."""

from __future__ import annotations

import pytest

from engine.store import SQLiteEventStore
from engine.store.factory import ENV_VAR, backend_of, open_store, redact, resolve_url, sqlite_target


@pytest.mark.parametrize(("url", "path", "synchronous"), [
    ("sqlite:///var/x.sqlite3", "var/x.sqlite3", "FULL"),
    ("sqlite:////tmp/abs.sqlite3", "/tmp/abs.sqlite3", "FULL"),
    ("sqlite://", ":memory:", "FULL"),
    ("sqlite:///:memory:", ":memory:", "FULL"),
    ("sqlite:///scratch.sqlite3?synchronous=NORMAL", "scratch.sqlite3", "NORMAL"),
    ("data/plain.sqlite3", "data/plain.sqlite3", "FULL"),
])
def test_sqlite_urls_and_bare_paths_name_a_file(url, path, synchronous):
    """sqlite:/// URLs (SQLAlchemy-style: four slashes for an absolute path) and bare paths."""
    assert backend_of(url) == "sqlite"
    assert sqlite_target(url) == (path, synchronous)


def test_nothing_given_means_the_default_sqlite_file(monkeypatch, tmp_path):
    """No URL and no STRIDELINE_STORE_URL: SQLite at var/strideline.sqlite3."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_url() == "sqlite:///var/strideline.sqlite3"
    store = open_store()
    try:
        assert isinstance(store, SQLiteEventStore)
        assert (tmp_path / "var" / "strideline.sqlite3").exists()
    finally:
        store.close()


def test_environment_variable_is_read_when_no_url_is_given(monkeypatch, tmp_path):
    """STRIDELINE_STORE_URL picks the store when the caller passes none."""
    monkeypatch.setenv(ENV_VAR, f"sqlite:///{tmp_path / 'env.sqlite3'}")
    store = open_store()
    try:
        assert store.path == str(tmp_path / "env.sqlite3")
    finally:
        store.close()


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h:5433/db"])
def test_postgresql_urls_select_postgresql(url):
    """Both libpq spellings of the scheme select PostgreSQL."""
    assert backend_of(url) == "postgresql"


@pytest.mark.postgres
def test_open_store_on_a_postgresql_url_gives_the_postgresql_store(pg_schema_url, monkeypatch):
    """STRIDELINE_STORE_URL=postgresql://... opens the PostgreSQL store."""
    from engine.store.postgres import PostgresEventStore

    monkeypatch.setenv(ENV_VAR, pg_schema_url)
    store = open_store(migrate=True)
    try:
        assert isinstance(store, PostgresEventStore)
    finally:
        store.close()


def test_other_schemes_are_refused():
    """A URL naming another database is an error, not a silent SQLite file."""
    with pytest.raises(ValueError, match="unsupported store URL scheme 'mysql'"):
        open_store("mysql://u@h/db")


def test_passwords_are_redacted_for_display():
    """db info and logs never print a password."""
    assert redact("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert redact("postgresql://app@db/x") == "postgresql://app@db/x"
