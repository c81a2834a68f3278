"""PostgreSQL keeps a deleted row for as long as an older transaction may still see it, and VACUUM
keeps it too: an erasure's rewrite of the key table waits for such transactions (bounded) and says
whether it could."""

from __future__ import annotations

import psycopg
import pytest

from engine.store.postgres import PostgresEventStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_schema_url, clock):
    store = PostgresEventStore(pg_schema_url, clock=clock, migrate=True)
    yield store
    store.close()


def test_a_scrub_with_an_older_snapshot_open_says_the_key_may_linger(pg_store, pg_schema_url):
    """Given a repeatable-read transaction that began before the scrub and still holds its
    snapshot, when the store scrubs without waiting, then it answers False."""
    with psycopg.connect(pg_schema_url) as older:
        older.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        older.execute("SELECT 1").fetchone()  # its snapshot is taken and kept

        assert pg_store.scrub(wait_s=0) is False


def test_a_scrub_once_older_transactions_ended_rewrites_the_key_table(pg_store, pg_schema_url):
    """Given that older transaction ended, when the store scrubs, then it answers True."""
    with psycopg.connect(pg_schema_url) as older:
        older.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        older.execute("SELECT 1").fetchone()
    assert pg_store.scrub(wait_s=5) is True


def test_a_reader_holding_the_key_table_never_blocks_an_erasure_for_long(pg_store, pg_schema_url):
    """Given a transaction that read the key table and stays open (it holds a lock the rewrite
    needs), when the store scrubs with a short wait, then it answers False instead of hanging,
    and once the reader has gone a scrub rewrites the table."""
    with psycopg.connect(pg_schema_url) as reader:
        reader.execute("SELECT count(*) FROM data_keys").fetchone()

        assert pg_store.scrub(wait_s=0.2) is False

    assert pg_store.scrub(wait_s=5) is True
