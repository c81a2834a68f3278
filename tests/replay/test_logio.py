"""Export and import of the log: JSONL and Parquet, round-trip exact, and refusals."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from engine.replay import export_log, import_log, read_log, replay
from engine.store.sqlite import ImportConflict, SQLiteEventStore

BASELINE = "engine.policies.baseline:BaselinePolicy"


def events_of(path) -> list:
    store = SQLiteEventStore(path)
    events = list(store.iter_all())
    heads = list(store.stream_heads())
    store.close()
    return events, heads


def export(path, out):
    store = SQLiteEventStore(path)
    count = export_log(store, out)
    store.close()
    return count


def import_into(path, log):
    store = SQLiteEventStore(path)
    try:
        return import_log(store, log)
    finally:
        store.close()


def test_jsonl_export_import_export_is_byte_exact(live_cohort, tmp_path):
    """Export, import into a fresh store, export again: the same bytes; ids, versions, positions, times kept."""
    path, _ = live_cohort
    count = export(path, tmp_path / "a.jsonl")
    assert import_into(tmp_path / "copy.sqlite3", tmp_path / "a.jsonl") == count
    export(tmp_path / "copy.sqlite3", tmp_path / "b.jsonl")
    assert (tmp_path / "b.jsonl").read_bytes() == (tmp_path / "a.jsonl").read_bytes()
    assert events_of(tmp_path / "copy.sqlite3") == events_of(path)
    assert len((tmp_path / "a.jsonl").read_bytes().splitlines()) == count


def test_parquet_round_trip_is_exact(live_cohort, tmp_path):
    """A Parquet export imports back to the same log (its JSONL export is byte-identical)."""
    path, _ = live_cohort
    export(path, tmp_path / "log.parquet")
    import_into(tmp_path / "copy.sqlite3", tmp_path / "log.parquet")
    assert events_of(tmp_path / "copy.sqlite3") == events_of(path)
    export(path, tmp_path / "a.jsonl")
    export(tmp_path / "copy.sqlite3", tmp_path / "b.jsonl")
    assert (tmp_path / "b.jsonl").read_bytes() == (tmp_path / "a.jsonl").read_bytes()


def test_import_refuses_a_store_that_holds_events(live_cohort, tmp_path):
    """Importing into a non-empty store is refused and writes nothing."""
    path, _ = live_cohort
    export(path, tmp_path / "a.jsonl")
    import_into(tmp_path / "copy.sqlite3", tmp_path / "a.jsonl")
    before = events_of(tmp_path / "copy.sqlite3")
    with pytest.raises(ImportConflict, match="already holds events"):
        import_into(tmp_path / "copy.sqlite3", tmp_path / "a.jsonl")
    assert events_of(tmp_path / "copy.sqlite3") == before


def test_import_refuses_position_conflicts_and_rolls_back(live_cohort, tmp_path):
    """A position that does not increase names the event; the store stays empty."""
    path, _ = live_cohort
    export(path, tmp_path / "a.jsonl")
    envelopes = list(read_log(tmp_path / "a.jsonl"))
    clash = replace(envelopes[10], position=envelopes[9].position)
    store = SQLiteEventStore(tmp_path / "copy.sqlite3")
    with pytest.raises(ImportConflict, match=f"event {clash.event_id}.*does not follow position"):
        store.import_envelopes(envelopes[:10] + [clash] + envelopes[11:])
    assert store.last_position() == 0 and list(store.stream_heads()) == []
    store.close()


def test_import_refuses_a_repeated_event_id(live_cohort, tmp_path):
    """The same event id twice (at two positions) is refused, naming it."""
    path, _ = live_cohort
    export(path, tmp_path / "a.jsonl")
    envelopes = list(read_log(tmp_path / "a.jsonl"))
    last = envelopes[-1]
    twin = replace(envelopes[0], stream="ath-twin", version=1, position=last.position + 1,
                   recorded_at=last.recorded_at)
    store = SQLiteEventStore(tmp_path / "copy.sqlite3")
    with pytest.raises(ImportConflict, match=str(twin.event_id)):
        store.import_envelopes(envelopes + [twin])
    assert store.last_position() == 0
    store.close()


def test_replaying_an_export_equals_replaying_the_store(live_cohort, tmp_path):
    """An exported log is a replay source: the same recommendations as the store it came from."""
    path, end = live_cohort
    export(path, tmp_path / "log.parquet")
    from_store = replay(path, [BASELINE], tmp_path / "a", horizon=end, report=False)
    from_file = replay(tmp_path / "log.parquet", [BASELINE], tmp_path / "b", horizon=end, report=False)
    assert from_file.recommendations("baseline").equals(from_store.recommendations("baseline"))
