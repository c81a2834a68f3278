"""Ingest's edge rules that need the clock or the stream (engine/ingest.py).

Given a store and a manual clock (2026-03-02 08:00 UTC), when a batch breaks a rule, then it is
rejected with the path of the offending field and nothing at all is stored or woken.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
import pytest

from engine.ingest import MAX_FUTURE_SKEW, Ingestor
from events import InvalidEvent
from events.vocabulary import PainReported, RunLogged

ENROLLED = {"type": "athlete.enrolled", "body_mass_kg": 61, "time_zone": "Europe/Dublin",
            "pre_injury_weekly_km": 35, "pre_injury_longest_run_km": 14}
PAIN = {"type": "pain.reported", "score": 2, "context": "rest"}
RUN = {"type": "run.logged", "distance_km": 3, "duration_min": 20, "rpe": 3}


def new(data: dict[str, Any], at: dt.datetime, event_id: uuid.UUID | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"data": data, "occurred_at": at}
    if event_id is not None:
        event["event_id"] = event_id
    return event


@pytest.fixture
def woken() -> list[str]:
    return []


@pytest.fixture
def ingestor(store, clock, woken) -> Ingestor:
    return Ingestor(store, clock=clock, wake=woken.append)


@pytest.fixture
def earlier(clock) -> dt.datetime:
    return clock.now() - dt.timedelta(hours=1)


def everything(store) -> list:
    return list(store.iter_all())


def refused(store, woken, call, *args, **kwargs) -> InvalidEvent:
    """Run an append expected to fail; prove the store and the wake-ups did not change."""
    before, woken_before = everything(store), list(woken)
    with pytest.raises(InvalidEvent) as info:
        call(*args, **kwargs)
    assert everything(store) == before
    assert woken == woken_before
    return info.value


def enrol(ingestor, athlete: str, at: dt.datetime) -> uuid.UUID:
    event_id = uuid.uuid4()
    ingestor.append(athlete, [new(ENROLLED, at, event_id)])
    return event_id


# --- time ---------------------------------------------------------------------------------------


def test_event_up_to_the_allowed_skew_ahead_is_accepted(ingestor, store, clock):
    """A device clock running up to MAX_FUTURE_SKEW fast is tolerated."""
    ingestor.append("a1", [new(ENROLLED, clock.now() + MAX_FUTURE_SKEW)])
    assert store.stream_version("a1") == 1


def test_event_beyond_the_skew_is_rejected_and_nothing_stored(ingestor, store, woken, clock, earlier):
    """occurred_at more than the skew ahead of the server clock rejects the whole batch."""
    future = clock.now() + MAX_FUTURE_SKEW + dt.timedelta(microseconds=1)
    error = refused(store, woken, ingestor.append, "a1",
                    [new(ENROLLED, earlier), new(PAIN, earlier), new(PAIN, future)])
    assert error.path == "$[2].occurred_at"
    assert "is in the future" in error.reason


def test_future_event_in_json_is_rejected_the_same_way(ingestor, store, woken, clock, earlier):
    """The JSON entry point applies the same skew rule with the same path."""
    raw = msgspec.json.encode([new(ENROLLED, earlier), new(PAIN, clock.now() + dt.timedelta(days=1))])
    error = refused(store, woken, ingestor.append_json, "a1", raw)
    assert error.path == "$[1].occurred_at"
    assert "in the future" in error.reason


def test_skew_is_measured_from_the_injected_clock(ingestor, store, clock):
    """Moving the clock moves the horizon: the engine never reads wall time itself."""
    tomorrow = clock.now() + dt.timedelta(days=1)
    clock.advance(dt.timedelta(days=1))
    ingestor.append("a1", [new(ENROLLED, tomorrow)])
    assert store.stream_version("a1") == 1


# --- enrolment first ----------------------------------------------------------------------------


def test_first_event_of_an_athlete_must_be_enrolment(ingestor, store, woken, earlier):
    """A new stream must open with athlete.enrolled."""
    error = refused(store, woken, ingestor.append, "a1", [new(PAIN, earlier), new(ENROLLED, earlier)])
    assert error.path == "$[0].data.type"
    assert "the first must be athlete.enrolled" in error.reason


def test_enrolled_athlete_may_send_other_events(ingestor, store, woken, earlier):
    """After enrolment, a batch may start with any event; the athlete is woken after each commit."""
    enrol(ingestor, "a1", earlier)
    ingestor.append("a1", [new(PAIN, earlier)])
    assert store.stream_version("a1") == 2
    assert woken == ["a1", "a1"]


def test_enrolment_of_one_athlete_does_not_open_another(ingestor, store, woken, earlier):
    """Enrolment is per athlete stream."""
    enrol(ingestor, "a1", earlier)
    error = refused(store, woken, ingestor.append, "a2", [new(PAIN, earlier)])
    assert error.path == "$[0].data.type"


# --- corrections --------------------------------------------------------------------------------


def test_correction_of_an_unknown_event_is_rejected(ingestor, store, woken, earlier):
    """A retraction must point at an event that exists."""
    enrol(ingestor, "a1", earlier)
    ghost = uuid.uuid4()
    retraction = {"type": "entry.retracted", "target_event_id": str(ghost)}
    error = refused(store, woken, ingestor.append, "a1", [new(PAIN, earlier), new(retraction, earlier)])
    assert error.path == "$[1].data.target_event_id"
    assert f"no stored event has id {ghost}" in error.reason


def test_correction_of_another_athletes_event_is_rejected(ingestor, store, woken, earlier):
    """An athlete can only correct their own log."""
    enrol(ingestor, "a1", earlier)
    theirs = enrol(ingestor, "a2", earlier)
    retraction = {"type": "entry.retracted", "target_event_id": str(theirs)}
    error = refused(store, woken, ingestor.append, "a1", [new(retraction, earlier)])
    assert error.path == "$[0].data.target_event_id"
    assert "belongs to another athlete" in error.reason


def test_retraction_of_an_own_stored_event_is_accepted(ingestor, store, earlier):
    """Retracting one's own stored event appends the retraction; the original stays."""
    enrol(ingestor, "a1", earlier)
    pain_id = uuid.uuid4()
    ingestor.append("a1", [new(PAIN, earlier, pain_id)])
    ingestor.append("a1", [new({"type": "entry.retracted", "target_event_id": str(pain_id)}, earlier)])
    assert [e.type for e in store.read_stream("a1")] == [
        "athlete.enrolled", "pain.reported", "entry.retracted"]


def test_correction_may_target_an_event_in_the_same_batch(ingestor, store, earlier):
    """A batch may log an event and amend it at once."""
    run_id = uuid.uuid4()
    amendment = {"type": "entry.amended", "target_event_id": str(run_id),
                 "replacement": {**RUN, "distance_km": 4}}
    ingestor.append("a1", [new(ENROLLED, earlier), new(RUN, earlier, run_id), new(amendment, earlier)])
    replacement = store.read_stream("a1")[-1].data.replacement
    assert replacement == RunLogged(distance_km=4, duration_min=20, rpe=3)


def test_amendment_must_keep_the_type_of_its_stored_target(ingestor, store, woken, earlier):
    """A run can only be amended into a run, not into a pain report."""
    enrol(ingestor, "a1", earlier)
    run_id = uuid.uuid4()
    ingestor.append("a1", [new(RUN, earlier, run_id)])
    amendment = {"type": "entry.amended", "target_event_id": str(run_id), "replacement": PAIN}
    error = refused(store, woken, ingestor.append, "a1", [new(amendment, earlier)])
    assert error.path == "$[0].data.replacement.type"
    assert "must keep the type: target is run.logged, replacement is pain.reported" in error.reason


def test_amendment_must_keep_the_type_of_a_target_in_the_same_batch(ingestor, store, woken, earlier):
    """The type rule also holds when the target arrives in the same batch."""
    pain_id = uuid.uuid4()
    amendment = {"type": "entry.amended", "target_event_id": str(pain_id), "replacement": RUN}
    error = refused(store, woken, ingestor.append, "a1",
                    [new(ENROLLED, earlier), new(PAIN, earlier, pain_id), new(amendment, earlier)])
    assert error.path == "$[2].data.replacement.type"
    assert "must keep the type" in error.reason


def test_amendment_keeping_the_type_is_accepted(ingestor, store, earlier):
    """Amending a pain report with a corrected pain report is stored as a new event."""
    enrol(ingestor, "a1", earlier)
    pain_id = uuid.uuid4()
    ingestor.append("a1", [new(PAIN, earlier, pain_id)])
    amendment = {"type": "entry.amended", "target_event_id": str(pain_id),
                 "replacement": {**PAIN, "score": 5}}
    ingestor.append("a1", [new(amendment, earlier)])
    assert store.read_stream("a1")[-1].data.replacement == PainReported(score=5, context="rest")
    assert store.get_event(pain_id).data == PainReported(score=2, context="rest")


# --- identity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("athlete", ["", "a" * 65, "a/recommendations", "ünï"])
def test_malformed_athlete_id_is_rejected(ingestor, store, woken, earlier, athlete):
    """Athlete ids are 1-64 letters, digits, '_' or '-' (so no one can write a recommendation stream)."""
    error = refused(store, woken, ingestor.append, athlete, [new(ENROLLED, earlier)])
    assert error.path == "athlete_id"
