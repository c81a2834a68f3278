"""Payloads and projection states are sealed at rest with the athlete's data key; erasure destroys
the key and tombstones the athlete, and whole-log reads pass the erased rows over and count them.
Both backends (the fixtures of this folder)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest

from engine.store import sealing
from engine.store.actor import Actor, acting_as
from engine.store.base import AthleteErased, AthleteNotVisible
from events import NewEvent, PainReported
from events.vocabulary import Context

NOTE = "NOTE-plaintext-must-not-be-stored-7c2d"
T0 = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.timezone.utc)


def _noted(store, athlete: str, at, event_id=None):
    event = NewEvent(data=PainReported(score=3, context=Context.AFTER, note=NOTE), occurred_at=at, event_id=event_id)
    return store.append(athlete, [event])


def _raw_payloads(store) -> list[bytes]:
    with store.sql_session() as db:
        return [bytes(p) for (p,) in db.all("SELECT payload FROM events")]


def test_payloads_are_sealed_at_rest_and_read_back_plain(store, clock):
    """Given an event with a note, the stored payload is ciphertext; reading it gives the note."""
    _noted(store, "ath-1", clock.now())
    [raw] = _raw_payloads(store)
    assert sealing.is_sealed(raw) and NOTE.encode() not in raw
    assert store.read_stream("ath-1")[0].data.note == NOTE


def test_a_retried_append_is_deduplicated_although_ciphertexts_differ(store, clock):
    """Sealing uses a fresh nonce each time; a retry of the same event id is still recognised."""
    event_id = uuid.uuid4()
    first = _noted(store, "ath-1", clock.now(), event_id)
    again = _noted(store, "ath-1", clock.now(), event_id)
    assert again.deduplicated and again.events == first.events


def test_projection_states_are_sealed(store):
    """A saved projection state is ciphertext at rest once the athlete has a data key."""
    store.append("ath-1", [NewEvent(data=PainReported(score=1, context=Context.AFTER), occurred_at=T0)])
    assert store.save_projection("ath-1", "athlete", NOTE.encode(), 1, None)
    with store.sql_session() as db:
        (state,) = db.one("SELECT state FROM projections WHERE athlete = ?", ("ath-1",))
    assert NOTE.encode() not in bytes(state)
    assert store.load_projection("ath-1", "athlete").state == NOTE.encode()


def test_erasure_makes_the_athlete_unreadable_and_refuses_appends(store, clock):
    """Given two athletes, when one is erased, their stream reads empty, leaves the heads, is
    skipped and counted by iter_all, refuses appends (410), and the other is untouched."""
    _noted(store, "ath-gone", clock.now())
    _noted(store, "ath-kept", clock.now())
    store.save_projection("ath-gone", "athlete", b"state", 1, None)
    result = store.erase_athlete("ath-gone", by_key="k1")
    assert result.events == 1 and not result.already
    assert store.read_stream("ath-gone") == [] and store.load_projection("ath-gone", "athlete") is None
    assert store.stream_version("ath-gone") == 0
    assert [h.stream for h in store.stream_heads()] == ["ath-kept"]
    assert [e.stream for e in store.iter_all()] == ["ath-kept"] and store.erased_skipped == 1
    with pytest.raises(AthleteErased):
        _noted(store, "ath-gone", clock.now())
    assert not store.save_projection("ath-gone", "athlete", b"again", 1, None)
    assert store.erase_athlete("ath-gone").already


def test_an_actor_registers_a_new_athlete_in_its_organisation(store, clock):
    """An append under an actor registers the athlete in its organisation and stamps the rows; an
    append by another organisation's actor is refused as not visible, storing nothing."""
    with acting_as(Actor(key_id="k-acme", org_id="acme")):
        _noted(store, "ath-1", clock.now())
    with acting_as(Actor(key_id="k-rival", org_id="rival")), pytest.raises(AthleteNotVisible):
        _noted(store, "ath-1", clock.now())
    with store.sql_session() as db:
        assert db.all("SELECT key_id, org_id FROM events") == [("k-acme", "acme")]
        assert db.all("SELECT athlete, org_id FROM athletes") == [("ath-1", "acme")]


def test_rows_written_before_encryption_stay_readable(tmp_path, clock):
    """A SQLite file from before schema step 2 (plaintext payloads) upgrades in place on open and
    its old events still read; new ones are sealed."""
    from engine.store.sqlite import SQLiteEventStore
    from engine.store.sqlite_schema import V1
    from events.codec import encode_payload

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(V1)
    payload = encode_payload(PainReported(score=2, context=Context.AFTER, note=NOTE))
    conn.execute("INSERT INTO events (position, event_id, stream, version, type, occurred_at, recorded_at, payload) "
                 "VALUES (1, ?, 'ath-old', 1, 'pain.reported', 0, 0, ?)", (uuid.uuid4().bytes, payload))
    conn.execute("INSERT INTO streams VALUES ('ath-old', 1, 1, 0)")
    conn.commit()
    conn.close()
    store = SQLiteEventStore(path, clock=clock)
    try:
        assert store.read_stream("ath-old")[0].data.note == NOTE
        _noted(store, "ath-old", clock.now())
        assert [sealing.is_sealed(p) for p in _raw_payloads(store)] == [False, True]
        assert [e.data.note for e in store.read_stream("ath-old")] == [NOTE, NOTE]
    finally:
        store.close()


def test_a_batch_sealer_gives_every_event_its_own_nonce_and_opens_like_seal():
    """Nonces are read from the kernel up to 64 at a time: 150 events, 150 distinct nonces, each
    payload opened with the event's own associated data (and refused with another event's)."""
    key, stream = sealing.new_data_key(), "ath-1"
    seal = sealing.sealer(key, stream, 150)
    ids = [uuid.uuid4().bytes for _ in range(150)]
    sealed = [seal(i, b"payload %d" % n) for n, i in enumerate(ids)]
    assert len({s[1:1 + sealing.NONCE_BYTES] for s in sealed}) == 150
    assert [sealing.unseal(key, s, sealing.event_aad(i, stream)) for i, s in zip(ids, sealed)] == \
        [b"payload %d" % n for n in range(150)]
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        sealing.unseal(key, sealed[0], sealing.event_aad(ids[1], stream))


def test_a_sealed_batch_gives_every_event_its_own_nonce_and_opens_like_seal():
    """The append path seals a batch at once (one read of nonces): 1,000 events, 1,000 distinct
    nonces, each payload opened with its own event's associated data only."""
    from cryptography.exceptions import InvalidTag

    key, stream = sealing.new_data_key(), "ath-1"
    ids = [uuid.uuid4().bytes for _ in range(1000)]
    sealed = sealing.seal_batch(key, stream, ids, [b"payload %d" % n for n in range(1000)])
    assert len({s[1:1 + sealing.NONCE_BYTES] for s in sealed}) == 1000
    assert [sealing.unseal(key, s, sealing.event_aad(i, stream)) for i, s in zip(ids, sealed)] == \
        [b"payload %d" % n for n in range(1000)]
    with pytest.raises(InvalidTag):
        sealing.unseal(key, sealed[0], sealing.event_aad(ids[1], stream))
