"""Typed input (``NewEvent`` objects, as the simulator and importers send) is validated as strictly
as JSON by ``Ingestor.append``, and the enrolment it checks against is remembered.

Given a store and a manual clock, when typed events are appended, then a wrongly typed field is
refused with its path and nothing is stored, exactly as for the same batch given as dicts."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.ingest import Ingestor
from events import InvalidEvent, NewEvent
from events.vocabulary import AthleteEnrolled, Context, PainReported


@pytest.fixture
def ingestor(store, clock) -> Ingestor:
    return Ingestor(store, clock=clock)


def enrolment(at: dt.datetime) -> NewEvent:
    return NewEvent(data=AthleteEnrolled(body_mass_kg=61, time_zone="Europe/Dublin", pre_injury_weekly_km=35,
                                         pre_injury_longest_run_km=14), occurred_at=at)


def test_a_wrongly_typed_field_in_a_typed_event_is_refused_with_its_path(ingestor, store, clock):
    """msgspec does not check types when a Struct is built in Python: ingest does, and stores nothing."""
    at = clock.now() - dt.timedelta(hours=1)
    bad = NewEvent(data=PainReported(score="seven", context=Context.REST), occurred_at=at)  # type: ignore[arg-type]
    with pytest.raises(InvalidEvent) as refused:
        ingestor.append("ath-1", [enrolment(at), bad])
    assert refused.value.path == "$[1].data.score"
    assert list(store.iter_all()) == []


def test_typed_and_dict_input_are_refused_alike(ingestor, clock):
    """The same out-of-range score, typed or as a dict: the same reason at the same path."""
    at = clock.now() - dt.timedelta(hours=1)
    typed = NewEvent(data=PainReported(score=11, context=Context.REST), occurred_at=at)
    as_dict = {"occurred_at": at, "data": {"type": "pain.reported", "score": 11, "context": "rest"}}
    errors = []
    for batch in ([enrolment(at), typed], [enrolment(at), as_dict]):
        with pytest.raises(InvalidEvent) as refused:
            ingestor.append("ath-1", batch)
        errors.append((refused.value.path, refused.value.reason))
    assert errors[0] == errors[1]


def test_a_second_enrolment_is_refused_after_the_first_was_remembered(ingestor, store, clock):
    """The enrolment is read once and remembered; a later enrolment is still refused, the stored one
    re-sent is still a retry."""
    at = clock.now() - dt.timedelta(hours=2)
    first = enrolment(at)
    stored = ingestor.append("ath-1", [first])
    ingestor.append("ath-1", [NewEvent(data=PainReported(score=2, context=Context.REST), occurred_at=at)])
    with pytest.raises(InvalidEvent, match="already enrolled"):
        ingestor.append("ath-1", [enrolment(at + dt.timedelta(minutes=5))])
    again = NewEvent(data=first.data, occurred_at=at, event_id=stored.events[0].event_id)
    assert ingestor.append("ath-1", [again]).deduplicated
    assert store.stream_version("ath-1") == 2


@pytest.mark.parametrize("small_events", [0, 40], ids=["after the enrolment", "after 40 small events"])
def test_an_oversized_typed_event_is_refused_at_its_path_like_a_dict(ingestor, clock, monkeypatch, small_events):
    """The event size rule holds for typed input (each event measured in the batch's one encoding):
    the same reason, at the same path, as for the same batch given as dicts."""
    from events import codec

    monkeypatch.setattr(codec, "MAX_EVENT_BYTES", 512)
    at = clock.now() - dt.timedelta(hours=1)
    small = [NewEvent(data=PainReported(score=2, context=Context.REST), occurred_at=at)] * small_events
    big = NewEvent(data=PainReported(score=3, context=Context.REST, note="n" * 600), occurred_at=at)
    as_dict = {"occurred_at": at, "data": {"type": "pain.reported", "score": 3, "context": "rest", "note": "n" * 600}}
    errors = []
    for batch in ([enrolment(at), *small, big], [enrolment(at), *small, as_dict]):
        with pytest.raises(InvalidEvent) as refused:
            ingestor.append("ath-1", batch)
        errors.append((refused.value.path, refused.value.reason))
    assert errors[0] == errors[1] == (f"$[{small_events + 1}]", errors[1][1])
    assert "the limit is 512" in errors[0][1]
