"""Checkpoints in their own narrow table, ahead of the saved state when a worker defers its snapshot,
and one transaction for a wake-up's recommendations, checkpoint and (when due) snapshot. Every test
runs on SQLite and on PostgreSQL (see conftest.py) unless it says otherwise."""

from __future__ import annotations

import sqlite3

from engine.store.sqlite import SQLiteEventStore
from engine.store.sqlite_schema import V1, V2


def test_checkpoints_are_read_without_touching_the_saved_states(store, raw_sql):
    """Given saved projections, when the state table is out of reach, then every checkpoint and one
    athlete's checkpoint still read: they never walk a state blob."""
    store.save_projection("a", "athlete", b"x" * 40_000, 3, None)
    store.save_projection("b", "athlete", b"y" * 40_000, 7, None)
    raw_sql("ALTER TABLE projections RENAME TO projections_away")
    assert store.projection_checkpoints("athlete") == {"a": 3, "b": 7}
    assert store.projection_checkpoint("a", "athlete") == (3, 1)
    assert store.projection_checkpoint("nobody", "athlete") is None


def test_a_commit_stores_outputs_checkpoint_and_snapshot_together(store, sleep):
    """Given no checkpoint yet, when a wake-up commits outputs, checkpoint and state, then all three
    are stored and the outputs' result says where they landed."""
    done = store.commit_projection("a", "athlete", 2, None, b"state@2", "a/out", [sleep(), sleep()])
    assert done.saved and done.appended.last_version == 2 and done.revision == 1
    assert len(store.read_stream("a/out")) == 2
    assert store.projection_checkpoint("a", "athlete") == (2, 1)
    record = store.load_projection("a", "athlete")
    assert (record.state, record.checkpoint) == (b"state@2", 2)


def test_a_commit_without_state_moves_the_checkpoint_ahead_of_the_snapshot(store, sleep):
    """Given a snapshot at 2, when a wake-up commits outputs and checkpoint 5 but no state, then the
    checkpoint reads 5 while the saved state is still the snapshot at 2."""
    store.commit_projection("a", "athlete", 2, None, b"state@2")
    done = store.commit_projection("a", "athlete", 5, 2, None, "a/out", [sleep()], expected_revision=1)
    assert done.saved and done.revision == 2
    assert store.projection_checkpoints("athlete") == {"a": 5}
    record = store.load_projection("a", "athlete")
    assert (record.state, record.checkpoint) == (b"state@2", 2)


def test_a_commit_on_a_moved_checkpoint_writes_nothing(store, sleep):
    """Given another writer moved the checkpoint, when a stale wake-up commits, then it is refused and
    neither its outputs nor its state are stored."""
    store.commit_projection("a", "athlete", 2, None, b"state@2")
    store.commit_projection("a", "athlete", 4, 2, None)
    done = store.commit_projection("a", "athlete", 3, 2, b"stale@3", "a/out", [sleep()])
    assert not done.saved and done.appended is None
    assert store.read_stream("a/out") == []
    assert store.projection_checkpoint("a", "athlete") == (4, 2)
    assert store.load_projection("a", "athlete").state == b"state@2"


def test_every_commit_bumps_the_revision_and_a_stale_revision_is_refused(store):
    """Given a commit that moved no version (a day-boundary tick), when a writer holding the previous
    revision commits at that same version, then it is refused: its state in memory is not current."""
    store.commit_projection("a", "athlete", 4, None, b"s")
    ticked = store.commit_projection("a", "athlete", 4, 4, b"ticked", expected_revision=1)
    assert ticked.saved and ticked.revision == 2
    assert not store.commit_projection("a", "athlete", 4, 4, b"stale", expected_revision=1).saved
    assert store.load_projection("a", "athlete").state == b"ticked"


def test_deleting_projections_drops_checkpoints_too(store):
    """A rebuild starts from no checkpoint as well as no state."""
    store.commit_projection("a", "athlete", 4, None, None)
    store.delete_projections("athlete", "a")
    assert store.projection_checkpoint("a", "athlete") is None


def test_a_schema_2_sqlite_file_is_upgraded_with_its_checkpoints(tmp_path, clock):
    """Given a SQLite file at schema version 2 with saved projections (SQLite only), when the store
    opens it, then the checkpoints are copied into the narrow table and the states are kept."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(f"BEGIN;\n{V1}\n{V2}\nPRAGMA user_version = 2;\nCOMMIT;")
    conn.execute("INSERT INTO projections (athlete, name, state, checkpoint) VALUES ('a', 'athlete', CAST('old state' AS BLOB), 9)")
    conn.close()
    store = SQLiteEventStore(path, clock=clock)
    try:
        assert store.projection_checkpoints("athlete") == {"a": 9}
        assert store.load_projection("a", "athlete").state == b"old state"
    finally:
        store.close()
