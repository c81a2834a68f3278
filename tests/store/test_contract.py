"""The EventStore contract. Every test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from engine.store import IdempotencyConflict, VersionConflict
from engine.store.sqlite import row_to_envelope
from events import SleepLogged

# -- append and read back ----------------------------------------------------------------------


def test_appended_events_read_back_with_envelope_facts(store, clock, sleep, pain):
    """Given a batch, when appended, then the stream reads it back with ids, versions, times, data."""
    correlation, causation = uuid.uuid4(), uuid.uuid4()
    batch = [sleep(7.0, event_id=uuid.uuid4(), correlation_id=correlation, causation_id=causation,
                   source="app-ios"), pain(3), sleep(8.25)]
    result = store.append("ath-1", batch)
    envelopes = store.read_stream("ath-1")
    assert [e.version for e in envelopes] == [1, 2, 3]
    assert [e.position for e in envelopes] == [s.position for s in result.events] == [1, 2, 3]
    assert [e.event_id for e in envelopes] == [s.event_id for s in result.events]
    assert envelopes[0].event_id == batch[0].event_id
    assert [e.data for e in envelopes] == [b.data for b in batch]
    assert [e.occurred_at for e in envelopes] == [b.occurred_at for b in batch]
    assert all(e.recorded_at == clock.now() for e in envelopes)
    assert (envelopes[0].correlation_id, envelopes[0].causation_id, envelopes[0].source) == (
        correlation, causation, "app-ios")
    assert (envelopes[1].correlation_id, envelopes[1].source) == (None, "")
    assert result.deduplicated is False and result.last_version == 3


def test_versions_count_per_stream_and_positions_count_globally(store, sleep):
    """Given two interleaved streams, versions restart per stream while positions keep rising."""
    store.append("a", [sleep(), sleep()])
    store.append("b", [sleep()])
    store.append("a", [sleep()])
    assert [(e.version, e.position) for e in store.read_stream("a")] == [(1, 1), (2, 2), (3, 4)]
    assert [(e.version, e.position) for e in store.read_stream("b")] == [(1, 3)]
    assert store.stream_version("a") == 3 and store.stream_version("nobody") == 0


def test_read_stream_from_version_with_limit(store, sleep):
    """A stream reads from a given version, at most ``limit`` events."""
    store.append("a", [sleep(h) for h in (5.0, 6.0, 7.0, 8.0)])
    assert [e.data.hours for e in store.read_stream("a", from_version=2, limit=2)] == [6.0, 7.0]
    assert store.read_stream("a", from_version=5) == []


def test_get_event_by_id(store, sleep):
    """An event is found by its id; an unknown id gives None."""
    event_id = uuid.uuid4()
    store.append("a", [sleep(6.5, event_id=event_id)])
    assert store.get_event(event_id).data == SleepLogged(hours=6.5)
    assert store.get_event(uuid.uuid4()) is None


def test_empty_batch_is_refused(store):
    """An append needs at least one event."""
    with pytest.raises(ValueError):
        store.append("a", [])


# -- optimistic concurrency --------------------------------------------------------------------


def test_expected_version_that_matches_appends(store, sleep):
    """An append expecting the stream's current version (0 for a new stream) succeeds."""
    assert store.append("a", [sleep()], expected_version=0).last_version == 1
    assert store.append("a", [sleep(), sleep()], expected_version=1).last_version == 3


def test_version_conflict_names_expected_and_actual_and_stores_nothing(store, sleep):
    """An append expecting a stale version is refused, naming both versions; nothing is stored."""
    store.append("a", [sleep(), sleep()])
    with pytest.raises(VersionConflict) as refused:
        store.append("a", [sleep()], expected_version=1)
    assert (refused.value.stream, refused.value.expected, refused.value.actual) == ("a", 1, 2)
    assert "version 2" in str(refused.value) and "version 1" in str(refused.value)
    assert store.stream_version("a") == 2 and store.last_position() == 2


# -- idempotency -------------------------------------------------------------------------------


def test_retried_append_returns_original_places_and_writes_nothing(store, sleep, snapshot):
    """A retried batch (same ids) returns the original versions and positions, byte-for-byte idle."""
    batch = [sleep(6.0, event_id=uuid.uuid4()), sleep(7.0, event_id=uuid.uuid4())]
    first = store.append("a", batch)
    store.append("b", [sleep()])
    before = snapshot()
    retry = store.append("a", batch)
    assert retry.events == first.events and retry.deduplicated is True
    assert snapshot() == before


def test_retry_with_its_original_expected_version_is_still_deduplicated(store, sleep):
    """A retry of an append that carried expected_version=0 is answered, not refused as stale."""
    batch = [sleep(event_id=uuid.uuid4())]
    first = store.append("a", batch, expected_version=0)
    assert store.append("a", batch, expected_version=0).events == first.events


def test_same_id_with_a_different_payload_is_an_idempotency_conflict(store, sleep, snapshot):
    """Reusing an event id for different content is refused and stores nothing."""
    event_id = uuid.uuid4()
    store.append("a", [sleep(6.0, event_id=event_id)])
    before = snapshot()
    with pytest.raises(IdempotencyConflict) as refused:
        store.append("a", [sleep(9.0, event_id=event_id)])
    assert refused.value.event_id == event_id
    with pytest.raises(IdempotencyConflict):
        store.append("a", [sleep(6.0, event_id=event_id, at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC))])
    assert snapshot() == before


def test_same_id_in_a_different_stream_is_an_idempotency_conflict(store, sleep):
    """An event id belongs to one stream: sending it to another is refused."""
    event_id = uuid.uuid4()
    store.append("a", [sleep(event_id=event_id)])
    with pytest.raises(IdempotencyConflict, match="stream 'a'"):
        store.append("b", [sleep(event_id=event_id)])
    assert store.stream_version("b") == 0


def test_resent_superset_stores_only_the_new_events(store, sleep):
    """Given a stored batch, when an offline queue re-sends it with new events mixed in, then only
    the new ones are written (after the head, in batch order) and the answer says which were stored."""
    old = [sleep(6.0, event_id=uuid.uuid4()), sleep(7.0, event_id=uuid.uuid4())]
    first = store.append("a", old)
    fresh = [sleep(8.0, event_id=uuid.uuid4()), sleep(9.0)]
    again = store.append("a", [old[0], fresh[0], old[1], fresh[1]])
    assert again.deduplicated is False and again.duplicates == frozenset({0, 2})
    assert [again.events[0], again.events[2]] == first.events
    assert [(e.version, e.position) for e in (again.events[1], again.events[3])] == [(3, 3), (4, 4)]
    assert [e.data.hours for e in store.read_stream("a")] == [6.0, 7.0, 8.0, 9.0]
    assert store.append("a", [old[0], fresh[0]]).deduplicated is True


def test_resent_superset_with_its_original_expected_version_is_accepted(store, sleep):
    """Given a batch appended at expected_version=0, when the client re-sends it plus new events with
    the same expected_version, then it is accepted; once another writer moved on, it is a conflict."""
    old = [sleep(event_id=uuid.uuid4())]
    store.append("a", old, expected_version=0)
    assert store.append("a", [*old, sleep(event_id=uuid.uuid4())], expected_version=0).last_version == 2
    store.append("a", [sleep()])
    with pytest.raises(VersionConflict):
        store.append("a", [*old, sleep(event_id=uuid.uuid4())], expected_version=0)
    assert store.stream_version("a") == 3


def test_superset_with_a_changed_payload_is_refused_whole(store, sleep):
    """A re-sent superset in which one stored id carries other content is refused, naming that id."""
    stored = sleep(6.0, event_id=uuid.uuid4())
    store.append("a", [stored])
    changed = sleep(9.0, event_id=stored.event_id)
    with pytest.raises(IdempotencyConflict) as refused:
        store.append("a", [sleep(event_id=uuid.uuid4()), changed])
    assert refused.value.event_id == stored.event_id
    assert store.last_position() == 1


def test_id_repeated_inside_one_batch_is_refused(store, sleep):
    """One batch cannot carry the same event id twice."""
    event = sleep(event_id=uuid.uuid4())
    with pytest.raises(IdempotencyConflict, match="same batch"):
        store.append("a", [event, event])
    assert store.last_position() == 0


@pytest.mark.parametrize("rejection", ["stale version", "changed payload", "superset with a changed payload",
                                       "other stream"])
def test_rejected_append_leaves_store_byte_for_byte_unchanged(store, sleep, snapshot, rejection):
    """Whatever the refusal, the database (SQLite file and WAL; every PostgreSQL row) is unchanged."""
    known = sleep(6.0, event_id=uuid.uuid4())
    store.append("a", [known, sleep()])
    store.save_projection("a", "pain", b"state", 2, None)
    before = snapshot()
    attempt = {
        "stale version": lambda: store.append("a", [sleep(), sleep()], expected_version=1),
        "changed payload": lambda: store.append("a", [sleep(9.0, event_id=known.event_id)]),
        "superset with a changed payload": lambda: store.append(
            "a", [sleep(event_id=uuid.uuid4()), sleep(9.0, event_id=known.event_id)]),
        "other stream": lambda: store.append("b", [known]),
    }[rejection]
    with pytest.raises((VersionConflict, IdempotencyConflict)):
        attempt()
    assert snapshot() == before


# -- immutability ------------------------------------------------------------------------------


def test_events_cannot_be_updated_by_any_client(store, sleep, raw_sql):
    """The database itself refuses an UPDATE of an event."""
    store.append("a", [sleep(6.0)])
    with pytest.raises(RuntimeError, match="immutable"):
        raw_sql("UPDATE events SET stream = 'b'")
    assert store.read_stream("a")[0].data == SleepLogged(hours=6.0)


def test_events_cannot_be_deleted_by_any_client(store, sleep, raw_sql):
    """The database itself refuses a DELETE of an event."""
    store.append("a", [sleep()])
    with pytest.raises(RuntimeError, match="events are (immutable|never deleted)"):
        raw_sql("DELETE FROM events")
    assert store.last_position() == 1


# -- projections -------------------------------------------------------------------------------


def test_projection_is_inserted_once(store):
    """With no row yet, the first save wins and a second 'first' save is refused."""
    assert store.load_projection("a", "pain") is None
    assert store.save_projection("a", "pain", b"one", 3, None) is True
    assert store.save_projection("a", "pain", b"two", 4, None) is False
    record = store.load_projection("a", "pain")
    assert (record.state, record.checkpoint) == (b"one", 3)


def test_projection_update_needs_the_current_checkpoint(store):
    """Compare-and-set: the right checkpoint updates; a stale one is refused and changes nothing."""
    store.save_projection("a", "pain", b"v3", 3, None)
    assert store.save_projection("a", "pain", b"v5", 5, expected_checkpoint=3) is True
    assert store.save_projection("a", "pain", b"v4", 4, expected_checkpoint=3) is False
    record = store.load_projection("a", "pain")
    assert (record.state, record.checkpoint) == (b"v5", 5)


def test_projections_are_keyed_by_athlete_and_name(store):
    """Each (athlete, projection name) pair has its own row and checkpoint."""
    store.save_projection("a", "pain", b"p", 1, None)
    store.save_projection("a", "load", b"l", 2, None)
    store.save_projection("b", "pain", b"q", 7, None)
    assert store.projection_checkpoints("pain") == {"a": 1, "b": 7}
    assert store.projection_checkpoints("load") == {"a": 2}


def test_deleting_projections_drops_state_not_events(store, sleep):
    """A rebuild drops saved state for one athlete or all; the events stay."""
    store.append("a", [sleep()])
    for athlete in ("a", "b"):
        store.save_projection(athlete, "pain", b"s", 1, None)
    store.save_projection("a", "load", b"s", 1, None)
    store.delete_projections("pain", "a")
    assert store.projection_checkpoints("pain") == {"b": 1}
    store.delete_projections("pain")
    assert store.projection_checkpoints("pain") == {}
    assert store.projection_checkpoints("load") == {"a": 1}
    assert store.last_position() == 1


# -- the global log ----------------------------------------------------------------------------


def test_iter_all_yields_every_event_after_a_position_in_global_order(store, sleep):
    """Reading the log from position k gives k+1, k+2, ... across streams."""
    for i in range(6):
        store.append("a" if i % 2 else "b", [sleep(float(i))])
    assert [e.position for e in store.iter_all(from_position=2)] == [3, 4, 5, 6]
    assert [e.data.hours for e in store.iter_all()] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert list(store.iter_all(from_position=6)) == []


def test_iter_raw_pages_a_large_log_in_small_batches(store, sleep):
    """A large log comes back in pages of at most batch_size, in order, nothing missed."""
    for start in range(0, 2_500, 500):
        store.append(f"ath-{start}", [sleep(float(i % 24)) for i in range(start, start + 500)])
    pages = list(store.iter_raw(from_position=0, batch_size=300))
    assert [len(p) for p in pages] == [300] * 8 + [100]
    assert [row[0] for page in pages for row in page] == list(range(1, 2_501))
    assert sum(1 for _ in store.iter_all(from_position=2_000, batch_size=7)) == 500


def test_iter_all_is_lazy_and_sees_events_appended_while_iterating(store, sleep):
    """The log is streamed page by page: events committed mid-iteration are still reached."""
    store.append("a", [sleep() for _ in range(5)])
    reader = store.iter_all(batch_size=2)
    seen = [next(reader).position]
    store.append("b", [sleep() for _ in range(3)])
    seen += [e.position for e in reader]
    assert seen == list(range(1, 9))


def test_raw_rows_decode_to_the_same_envelopes_on_every_backend(store, sleep, pain):
    """iter_raw's rows have one shape everywhere: sqlite.row_to_envelope turns them into iter_all's."""
    store.append("a", [sleep(event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), source="web"), pain()])
    decoded = [row_to_envelope(row) for page in store.iter_raw() for row in page]
    assert decoded == list(store.iter_all())


def test_stream_heads_and_last_position(store, sleep):
    """Each stream's head has its version and the position of its last event, by stream name."""
    assert list(store.stream_heads()) == [] and store.last_position() == 0
    store.append("b", [sleep(), sleep()])
    store.append("a", [sleep()])
    store.append("b", [sleep()])
    assert [(h.stream, h.version, h.position) for h in store.stream_heads()] == [
        ("a", 1, 3), ("b", 3, 4)]
    assert store.last_position() == 4


def test_recorded_at_never_goes_backwards_within_a_stream(store, clock, sleep):
    """recorded_at is the clock's time; when the clock runs late it is one microsecond after the
    stream's previous batch (each batch is its own instant: a decision point, engine.decisions)."""
    clock.advance(dt.timedelta(hours=1))
    store.append("a", [sleep()])
    late = store.read_stream("a")[0].recorded_at
    store.clock = type(clock)(clock.now() - dt.timedelta(minutes=5))
    store.append("a", [sleep()])
    assert store.read_stream("a")[1].recorded_at == late + dt.timedelta(microseconds=1)
