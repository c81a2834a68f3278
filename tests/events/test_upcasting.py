"""Old-shape stored events read back as the current vocabulary (events/upcasting.py).

The store is never rewritten: a log written by an old version keeps its old tags and bytes, and
upcasters lift them at read time. To simulate such a log, these tests insert raw rows into the
events table of a store file — the one place a test writes rows behind the store's back.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager

import msgspec
import pytest

import events.upcasting as upcasting
from engine.clock import to_micros
from engine.store import SQLiteEventStore
from events import NewEvent
from events.codec import decode_payload
from events.upcasting import UPCASTERS, upcast
from events.vocabulary import (
    EVENT_TYPES,
    AthleteEnrolled,
    Context,
    PainReported,
    SleepLogged,
)

AT = dt.datetime(2025, 6, 1, 7, 0, tzinfo=dt.timezone.utc)
OLD_SLEEP = {"type": "sleep.recorded", "minutes": 450, "quality": 4}
OLD_PAIN = {"type": "pain.logged", "level": 3, "when": "morning", "site": "shin"}


@contextmanager
def raw_connection(store: SQLiteEventStore) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to the store's file: one transaction, then closed."""
    with closing(sqlite3.connect(store.path)) as conn, conn:
        yield conn


def write_old_row(store: SQLiteEventStore, stream: str, payload: dict) -> uuid.UUID:
    """Append a row the way a 2025 beta build did: old tag, old payload, raw MessagePack."""
    event_id = uuid.uuid4()
    with raw_connection(store) as conn:
        (position,) = conn.execute("SELECT coalesce(max(position), 0) + 1 FROM events").fetchone()
        (version,) = conn.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM events WHERE stream = ?", (stream,)
        ).fetchone()
        conn.execute(
            "INSERT INTO events (position, event_id, stream, version, type, occurred_at, recorded_at,"
            " source, payload) VALUES (?, ?, ?, ?, ?, ?, ?, 'beta-app', ?)",
            (position, event_id.bytes, stream, version, payload["type"], to_micros(AT),
             to_micros(AT), msgspec.msgpack.encode(payload)),
        )
        conn.execute(
            "INSERT INTO streams (stream, version, last_position, last_recorded_at) VALUES (?,?,?,?)"
            " ON CONFLICT (stream) DO UPDATE SET version = excluded.version,"
            " last_position = excluded.last_position, last_recorded_at = excluded.last_recorded_at",
            (stream, version, position, to_micros(AT)),
        )
    return event_id


def raw_row(store: SQLiteEventStore, event_id: uuid.UUID) -> tuple[str, bytes]:
    with raw_connection(store) as conn:
        return conn.execute(
            "SELECT type, payload FROM events WHERE event_id = ?", (event_id.bytes,)
        ).fetchone()


@pytest.fixture
def old_log(store) -> SQLiteEventStore:
    """A stream begun by the current build, continued with two beta-era rows."""
    store.append("a1", [NewEvent(
        data=AthleteEnrolled(body_mass_kg=58, time_zone="Europe/Paris", pre_injury_weekly_km=30,
                             pre_injury_longest_run_km=12),
        occurred_at=AT,
    )])
    write_old_row(store, "a1", OLD_SLEEP)
    write_old_row(store, "a1", OLD_PAIN)
    return store


def test_old_sleep_minutes_read_back_as_sleep_hours(old_log):
    """A stored sleep.recorded of 450 minutes reads as SleepLogged(hours=7.5)."""
    envelope = old_log.read_stream("a1", from_version=2, limit=1)[0]
    assert envelope.data == SleepLogged(hours=7.5, quality=4)
    assert envelope.type == "sleep.logged"


def test_old_pain_level_reads_back_as_a_pain_report(old_log):
    """A stored pain.logged (level, when=morning) reads as PainReported(score, next_morning)."""
    envelope = old_log.read_stream("a1", from_version=3)[0]
    assert envelope.data == PainReported(score=3, context=Context.NEXT_MORNING, site="shin")
    assert envelope.source == "beta-app"


def test_global_iteration_upcasts_in_log_order(old_log):
    """iter_all yields the old rows, upcast, in their place in the log."""
    assert [type(e.data) for e in old_log.iter_all()] == [AthleteEnrolled, SleepLogged, PainReported]
    assert [e.version for e in old_log.iter_all()] == [1, 2, 3]


def test_lookup_by_id_upcasts_too(store):
    """get_event returns the current shape of an old row."""
    event_id = write_old_row(store, "a1", OLD_SLEEP)
    assert store.get_event(event_id).data == SleepLogged(hours=7.5, quality=4)


def test_reading_never_rewrites_the_stored_row(store):
    """The old tag and bytes stay exactly as written; upcasting happens on every read."""
    event_id = write_old_row(store, "a1", OLD_PAIN)
    before = raw_row(store, event_id)
    store.read_stream("a1")
    list(store.iter_all())
    assert raw_row(store, event_id) == before == ("pain.logged", msgspec.msgpack.encode(OLD_PAIN))


def test_old_rows_read_the_same_after_reopening_the_file(old_log):
    """A fresh store on the same file reads the same current events (nothing cached, nothing lost)."""
    expected = [e.data for e in old_log.read_stream("a1")]
    reopened = SQLiteEventStore(old_log.path)
    try:
        assert [e.data for e in reopened.read_stream("a1")] == expected
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("when", "context"),
    [("morning", Context.NEXT_MORNING), ("rest", Context.REST), ("during", Context.DURING),
     ("after", Context.AFTER)],
)
def test_old_pain_when_maps_to_context(when, context):
    """Each beta ``when`` value maps to a current Context."""
    raw = msgspec.msgpack.encode({"type": "pain.logged", "level": 5, "when": when})
    assert decode_payload("pain.logged", raw) == PainReported(score=5, context=context)


def test_old_sleep_without_quality_upcasts_without_quality():
    """An absent quality stays absent (None), it is not invented."""
    raw = msgspec.msgpack.encode({"type": "sleep.recorded", "minutes": 400})
    assert decode_payload("sleep.recorded", raw) == SleepLogged(hours=6.667)


def test_no_old_tag_is_reused_by_the_current_vocabulary():
    """Tags are permanent: an upcast tag is never also a current one."""
    assert not set(UPCASTERS) & set(EVENT_TYPES)


def test_upcasters_are_pure():
    """An upcaster returns a new payload and leaves its input untouched."""
    for old in (OLD_SLEEP, OLD_PAIN):
        snapshot = dict(old)
        upcast(old)
        assert old == snapshot


def test_upcasters_chain_until_a_current_tag(monkeypatch):
    """An upcaster may return another old tag; the chain runs to the current shape."""
    def alpha_sleep(old):  # an imagined pre-beta shape: seconds
        return {"type": "sleep.recorded", "minutes": old["seconds"] / 60}
    monkeypatch.setitem(upcasting.UPCASTERS, "sleep.alpha", alpha_sleep)
    raw = msgspec.msgpack.encode({"type": "sleep.alpha", "seconds": 27_000})
    assert decode_payload("sleep.alpha", raw) == SleepLogged(hours=7.5)


def test_upcaster_cycle_fails_instead_of_hanging(monkeypatch):
    """A mistaken cycle of upcasters is bounded and reported."""
    monkeypatch.setitem(upcasting.UPCASTERS, "x.a", lambda p: {"type": "x.b"})
    monkeypatch.setitem(upcasting.UPCASTERS, "x.b", lambda p: {"type": "x.a"})
    with pytest.raises(RuntimeError, match="upcaster chain too long"):
        upcast({"type": "x.a"})


def test_old_measurement_inside_a_stored_amendment_is_upcast(store):
    """An entry.amended row whose replacement has an old tag reads with the current replacement."""
    old_amendment = {"type": "entry.amended", "target_event_id": str(uuid.uuid4()),
                     "replacement": OLD_SLEEP, "reason": "forgot the nap"}
    event_id = write_old_row(store, "a1", old_amendment)
    amended = store.get_event(event_id).data
    assert amended.replacement == SleepLogged(hours=7.5, quality=4)
    assert amended.reason == "forgot the nap"


def test_current_payload_that_fails_validation_still_fails(store):
    """The read-time fallback is for old tags only: a corrupt current payload is not hidden."""
    raw = msgspec.msgpack.encode({"type": "entry.amended", "target_event_id": str(uuid.uuid4()),
                                  "replacement": {"type": "pain.reported", "score": 99,
                                                  "context": "rest"}})
    with pytest.raises(msgspec.ValidationError):
        decode_payload("entry.amended", raw)
