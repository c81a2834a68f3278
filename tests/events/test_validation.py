"""Validation at the edge: every event type, accepted and rejected, through JSON and Python.

A rejected batch raises ``InvalidEvent`` whose ``path`` is a JSON path into the submitted document
and whose ``reason`` says what was wrong. Each rejected case is sent as the *second* event of a
batch behind a valid one, so the path also proves the batch index is named (``$[1]...``).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import events.codec as codec
from events import InvalidEvent, NewEvent
from events.codec import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    decode_batch,
    decode_event,
    decode_payload,
    encode_json,
    encode_payload,
    validate,
)
from events.vocabulary import (
    EVENT_TYPES,
    AthleteEnrolled,
    Context,
    EntryAmended,
    LiftLogged,
    PainReported,
    RunKind,
    RunLogged,
    SleepLogged,
    event_type,
)

UTC = dt.timezone.utc
OCCURRED = dt.datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
TARGET = str(uuid.UUID("00000000-0000-4000-8000-000000000001"))
FIRST = {"type": "sleep.logged", "hours": 7.0}
"""A valid event that leads every rejected batch, so the bad one sits at ``$[1]``."""


def item(data: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {"data": data, "occurred_at": OCCURRED.isoformat(), **envelope}


def as_json(*datas: dict[str, Any]) -> bytes:
    return msgspec.json.encode([item(d) for d in datas])


def rejected(call, *args) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as info:
        call(*args)
    return info.value


# --- the cases ----------------------------------------------------------------------------------

ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("enrolled", {"type": "athlete.enrolled", "body_mass_kg": 62.5, "time_zone": "Europe/London",
                  "pre_injury_weekly_km": 40, "pre_injury_longest_run_km": 16}),
    ("enrolled-never-ran", {"type": "athlete.enrolled", "body_mass_kg": 300, "time_zone": "UTC",
                            "pre_injury_weekly_km": 0, "pre_injury_longest_run_km": 5}),
    ("injury-tendon", {"type": "injury.reported", "injury_type": "tendinopathy",
                       "onset_date": "2026-01-20", "site": "left achilles"}),
    ("injury-bone", {"type": "injury.reported", "injury_type": "bone_stress",
                     "onset_date": "2026-01-20", "bone_site": "navicular",
                     "previous_running_injuries": 2, "previous_same_site": True}),
    ("assessment", {"type": "assessment.recorded",
                    "contributors": ["training_load_error", "poor_sleep"], "note": "ramped too fast"}),
    ("assessment-none", {"type": "assessment.recorded", "contributors": []}),
    ("pain-0", {"type": "pain.reported", "score": 0, "context": "rest"}),
    ("pain-10", {"type": "pain.reported", "score": 10, "context": "next_morning",
                 "bony_tenderness": True, "site": "shin"}),
    ("lift", {"type": "lift.logged", "exercise": "calf_raise", "load_kg": 20, "reps": 12, "sets": 3,
              "rpe": 7.5, "side": "left"}),
    ("lift-bodyweight", {"type": "lift.logged", "exercise": "split_squat", "load_kg": 0, "reps": 100,
                         "sets": 20, "rpe": 0}),
    ("plyometric", {"type": "plyometric.logged", "drill": "pogo", "foot_contacts": 50, "pain": 2}),
    ("run-easy", {"type": "run.logged", "distance_km": 5, "duration_min": 30, "rpe": 3}),
    ("run-walk-run", {"type": "run.logged", "distance_km": 3, "duration_min": 30, "rpe": 2,
                      "kind": "walk_run", "walk_run_level": 3}),
    ("run-walk", {"type": "run.logged", "distance_km": 3, "duration_min": 36, "rpe": 1, "kind": "walk"}),
    ("sleep", {"type": "sleep.logged", "hours": 7.5, "quality": 4}),
    ("sleep-none", {"type": "sleep.logged", "hours": 0}),
    ("fuelling", {"type": "fuelling.logged", "under_fuelled": False, "energy_kcal": 2200}),
    ("fuelling-flag", {"type": "fuelling.logged", "under_fuelled": True}),
    ("readiness", {"type": "readiness_test.recorded", "test": "brisk_walk_30min", "passed": True,
                   "pain": 1, "result": 30}),
    ("readiness-hops", {"type": "readiness_test.recorded", "test": "hop_symmetry", "passed": True,
                        "pain": 0, "result": 92}),
    ("clearance", {"type": "clearance.recorded", "scope": "running", "clinician": "Dr. A. Physio"}),
    ("retracted", {"type": "entry.retracted", "target_event_id": TARGET, "reason": "wrong day"}),
    ("amended", {"type": "entry.amended", "target_event_id": TARGET, "reason": "typo",
                 "replacement": {"type": "pain.reported", "score": 3, "context": "during"}}),
    ("isometric", {"type": "isometric.logged", "exercise": "wall_sit", "hold_seconds": 45, "sets": 5,
                   "pain": 2}),
    ("cross-training", {"type": "cross_training.logged", "activity": "cycling", "duration_min": 40,
                        "rpe": 4}),
    ("lift-with-pain", {"type": "lift.logged", "exercise": "squat", "load_kg": 60, "reps": 6, "sets": 4,
                        "rpe": 8, "pain": 3}),
    ("profile-moved", {"type": "athlete.profile_updated", "time_zone": "Asia/Tokyo"}),
    ("profile-volume", {"type": "athlete.profile_updated", "body_mass_kg": 61, "pre_injury_weekly_km": 45,
                        "pre_injury_longest_run_km": 18}),
]

# (id, data, path under the event, substring of the reason)
REJECTED: list[tuple[str, dict[str, Any], str, str]] = [
    # isometric.logged, cross_training.logged
    ("isometric-no-duration", {"type": "isometric.logged", "exercise": "wall_sit", "hold_seconds": 0,
                               "sets": 3}, ".data.hold_seconds", "> 0"),
    ("cross-training-activity", {"type": "cross_training.logged", "activity": "darts", "duration_min": 40,
                                 "rpe": 4}, ".data.activity", "Invalid enum value 'darts'"),
    ("run-pain", {"type": "run.logged", "distance_km": 5, "duration_min": 30, "rpe": 3, "pain": 11},
     ".data.pain", "<= 10"),
    # athlete.enrolled
    ("enrolled-unknown-zone", {**ACCEPTED[0][1], "time_zone": "Mars/Olympus_Mons"},
     ".data.time_zone", "unknown IANA time zone 'Mars/Olympus_Mons'"),
    ("enrolled-zone-traversal", {**ACCEPTED[0][1], "time_zone": "../../etc/passwd"},
     ".data.time_zone", "unknown IANA time zone"),
    ("enrolled-empty-zone", {**ACCEPTED[0][1], "time_zone": ""}, ".data.time_zone", "length >= 1"),
    ("enrolled-light", {**ACCEPTED[0][1], "body_mass_kg": 20}, ".data.body_mass_kg", "> 20"),
    ("enrolled-heavy", {**ACCEPTED[0][1], "body_mass_kg": 301}, ".data.body_mass_kg", "<= 300"),
    ("enrolled-weekly", {**ACCEPTED[0][1], "pre_injury_weekly_km": 401},
     ".data.pre_injury_weekly_km", "<= 400"),
    ("enrolled-longest-zero", {**ACCEPTED[0][1], "pre_injury_longest_run_km": 0},
     ".data.pre_injury_longest_run_km", "> 0"),
    ("enrolled-longest-over-week", {**ACCEPTED[0][1], "pre_injury_longest_run_km": 41},
     ".data.pre_injury_longest_run_km", "pre_injury_longest_run_km exceeds pre_injury_weekly_km"),
    ("enrolled-missing", {"type": "athlete.enrolled", "body_mass_kg": 60, "pre_injury_weekly_km": 30,
                          "pre_injury_longest_run_km": 10}, ".data.time_zone", "missing required field `time_zone`"),
    # athlete.profile_updated
    ("profile-empty", {"type": "athlete.profile_updated"}, ".data",
     "a profile update changes at least one of time_zone, body_mass_kg"),
    ("profile-unknown-zone", {"type": "athlete.profile_updated", "time_zone": "London"},
     ".data.time_zone", "unknown IANA time zone 'London'"),
    ("profile-light", {"type": "athlete.profile_updated", "body_mass_kg": 0}, ".data.body_mass_kg", "> 20"),
    ("profile-weekly-zero", {"type": "athlete.profile_updated", "pre_injury_weekly_km": 0},
     ".data.pre_injury_weekly_km", "> 0"),
    ("profile-longest-over-week", {"type": "athlete.profile_updated", "pre_injury_weekly_km": 20,
                                   "pre_injury_longest_run_km": 21},
     ".data.pre_injury_longest_run_km", "pre_injury_longest_run_km exceeds pre_injury_weekly_km"),
    # injury.reported
    ("bone-stress-without-site", {"type": "injury.reported", "injury_type": "bone_stress",
                                  "onset_date": "2026-01-20"},
     ".data.bone_site", "bone_site is required for a bone_stress injury"),
    ("bone-site-on-tendon", {**ACCEPTED[2][1], "bone_site": "navicular"},
     ".data.bone_site", "bone_site is only allowed for a bone_stress injury"),
    ("injury-type", {**ACCEPTED[2][1], "injury_type": "broken_heart"},
     ".data.injury_type", "Invalid enum value 'broken_heart'"),
    ("bone-site-unknown", {**ACCEPTED[3][1], "bone_site": "skull"},
     ".data.bone_site", "Invalid enum value 'skull'"),
    ("onset-date", {**ACCEPTED[2][1], "onset_date": "last tuesday"}, ".data.onset_date", "date"),
    ("previous-injuries", {**ACCEPTED[2][1], "previous_running_injuries": -1},
     ".data.previous_running_injuries", ">= 0"),
    ("injury-site-markup", {**ACCEPTED[2][1], "site": "<script>"}, ".data.site", "matching regex"),
    # assessment.recorded
    ("contributors-repeat", {"type": "assessment.recorded",
                             "contributors": ["poor_sleep", "poor_sleep"]},
     ".data.contributors", "contributors must not repeat"),
    ("contributor-unknown", {"type": "assessment.recorded", "contributors": ["bad_luck"]},
     ".data.contributors[0]", "Invalid enum value 'bad_luck'"),
    ("assessment-note", {"type": "assessment.recorded", "contributors": [], "note": "x" * 1001},
     ".data.note", "length <= 1000"),
    # pain.reported
    ("pain-11", {"type": "pain.reported", "score": 11, "context": "rest"}, ".data.score", "<= 10"),
    ("pain-negative", {"type": "pain.reported", "score": -1, "context": "rest"}, ".data.score", ">= 0"),
    ("pain-fraction", {"type": "pain.reported", "score": 3.5, "context": "rest"},
     ".data.score", "Expected `int`, got `float`"),
    ("pain-context", {"type": "pain.reported", "score": 3, "context": "sometimes"},
     ".data.context", "Invalid enum value 'sometimes'"),
    ("pain-unknown-field", {"type": "pain.reported", "score": 3, "context": "rest", "mood": "ok"},
     ".data.mood", "unknown field `mood`"),
    # lift.logged
    ("lift-negative-load", {**ACCEPTED[8][1], "load_kg": -5}, ".data.load_kg", ">= 0"),
    ("lift-absurd-load", {**ACCEPTED[8][1], "load_kg": 1001}, ".data.load_kg", "<= 1000"),
    ("lift-zero-reps", {**ACCEPTED[8][1], "reps": 0}, ".data.reps", ">= 1"),
    ("lift-many-reps", {**ACCEPTED[8][1], "reps": 101}, ".data.reps", "<= 100"),
    ("lift-zero-sets", {**ACCEPTED[8][1], "sets": 0}, ".data.sets", ">= 1"),
    ("lift-many-sets", {**ACCEPTED[8][1], "sets": 21}, ".data.sets", "<= 20"),
    ("lift-rpe", {**ACCEPTED[8][1], "rpe": 10.5}, ".data.rpe", "<= 10"),
    ("lift-rpe-negative", {**ACCEPTED[8][1], "rpe": -0.5}, ".data.rpe", ">= 0"),
    ("lift-exercise-name", {**ACCEPTED[8][1], "exercise": "Back Squat!"},
     ".data.exercise", "matching regex"),
    ("lift-side", {**ACCEPTED[8][1], "side": "middle"}, ".data.side", "Invalid enum value 'middle'"),
    # plyometric.logged
    ("plyo-no-contacts", {**ACCEPTED[10][1], "foot_contacts": 0}, ".data.foot_contacts", ">= 1"),
    ("plyo-many-contacts", {**ACCEPTED[10][1], "foot_contacts": 1001},
     ".data.foot_contacts", "<= 1000"),
    ("plyo-pain", {**ACCEPTED[10][1], "pain": 11}, ".data.pain", "<= 10"),
    ("plyo-drill", {**ACCEPTED[10][1], "drill": "cartwheel"}, ".data.drill", "Invalid enum value"),
    # run.logged
    ("run-500km", {"type": "run.logged", "distance_km": 500, "duration_min": 1500, "rpe": 9},
     ".data.distance_km", "<= 250"),
    ("run-no-distance", {"type": "run.logged", "distance_km": 0, "duration_min": 30, "rpe": 3},
     ".data.distance_km", "> 0"),
    ("run-no-duration", {"type": "run.logged", "distance_km": 5, "duration_min": 0, "rpe": 3},
     ".data.duration_min", "> 0"),
    ("run-31-hours", {"type": "run.logged", "distance_km": 100, "duration_min": 1801, "rpe": 3},
     ".data.duration_min", "<= 1800"),
    ("run-too-fast", {"type": "run.logged", "distance_km": 10, "duration_min": 20, "rpe": 9},
     ".data", "faster than humanly plausible"),
    ("run-too-slow", {"type": "run.logged", "distance_km": 1, "duration_min": 45, "rpe": 1},
     ".data", "slower than a walk"),
    ("walk-run-without-level", {"type": "run.logged", "distance_km": 3, "duration_min": 30, "rpe": 2,
                                "kind": "walk_run"},
     ".data.walk_run_level", "walk_run_level is required when kind is walk_run"),
    ("level-on-easy-run", {**ACCEPTED[11][1], "walk_run_level": 3},
     ".data.walk_run_level", "walk_run_level is only allowed when kind is walk_run"),
    ("walk-run-level-13", {**ACCEPTED[12][1], "walk_run_level": 13}, ".data.walk_run_level", "<= 12"),
    ("run-rpe", {**ACCEPTED[11][1], "rpe": 11}, ".data.rpe", "<= 10"),
    ("run-kind", {**ACCEPTED[11][1], "kind": "sprint"}, ".data.kind", "Invalid enum value 'sprint'"),
    # sleep.logged
    ("sleep-25h", {"type": "sleep.logged", "hours": 25}, ".data.hours", "<= 24"),
    ("sleep-negative", {"type": "sleep.logged", "hours": -1}, ".data.hours", ">= 0"),
    ("sleep-quality-0", {"type": "sleep.logged", "hours": 7, "quality": 0}, ".data.quality", ">= 1"),
    ("sleep-quality-6", {"type": "sleep.logged", "hours": 7, "quality": 6}, ".data.quality", "<= 5"),
    # fuelling.logged
    ("fuelling-negative", {"type": "fuelling.logged", "under_fuelled": False, "energy_kcal": -1},
     ".data.energy_kcal", ">= 0"),
    ("fuelling-absurd", {"type": "fuelling.logged", "under_fuelled": False, "energy_kcal": 15001},
     ".data.energy_kcal", "<= 15000"),
    ("fuelling-flag-text", {"type": "fuelling.logged", "under_fuelled": "yes"},
     ".data.under_fuelled", "Expected `bool`, got `str`"),
    ("fuelling-missing-flag", {"type": "fuelling.logged"},
     ".data.under_fuelled", "missing required field `under_fuelled`"),
    # readiness_test.recorded
    ("hops-without-result", {"type": "readiness_test.recorded", "test": "hop_symmetry",
                             "passed": True, "pain": 0},
     ".data.result", "result (symmetry percent) is required for hop_symmetry"),
    ("hops-over-150", {**ACCEPTED[19][1], "result": 151}, ".data.result", "at most 150"),
    ("readiness-pain", {**ACCEPTED[18][1], "pain": 11}, ".data.pain", "<= 10"),
    ("readiness-result", {**ACCEPTED[18][1], "result": 1001}, ".data.result", "<= 1000"),
    ("readiness-test", {**ACCEPTED[18][1], "test": "juggling"}, ".data.test", "Invalid enum value"),
    # clearance.recorded
    ("clearance-scope", {**ACCEPTED[20][1], "scope": "everything"}, ".data.scope", "Invalid enum value"),
    ("clearance-no-clinician", {**ACCEPTED[20][1], "clinician": ""}, ".data.clinician", "matching regex"),
    ("clearance-long-clinician", {**ACCEPTED[20][1], "clinician": "a" * 81},
     ".data.clinician", "length <= 80"),
    # entry.retracted
    ("retract-not-uuid", {"type": "entry.retracted", "target_event_id": "yesterday's run"},
     ".data.target_event_id", "Invalid UUID"),
    ("retract-no-target", {"type": "entry.retracted"},
     ".data.target_event_id", "missing required field `target_event_id`"),
    # entry.amended: the replacement must be a measurement, and is validated like one
    ("amend-to-enrolment", {"type": "entry.amended", "target_event_id": TARGET,
                            "replacement": ACCEPTED[0][1]},
     ".data.replacement.type", "an amendment can only replace a measurement"),
    ("amend-to-clearance", {"type": "entry.amended", "target_event_id": TARGET,
                            "replacement": ACCEPTED[20][1]},
     ".data.replacement.type", "not 'clearance.recorded'"),
    ("amend-an-amendment", {"type": "entry.amended", "target_event_id": TARGET,
                            "replacement": ACCEPTED[22][1]},
     ".data.replacement.type", "an amendment can only replace a measurement"),
    ("amend-to-unknown", {"type": "entry.amended", "target_event_id": TARGET,
                          "replacement": {"type": "mood.logged"}},
     ".data.replacement.type", "not 'mood.logged'"),
    ("amend-bad-replacement", {"type": "entry.amended", "target_event_id": TARGET,
                               "replacement": {"type": "pain.reported", "score": 12, "context": "rest"}},
     ".data.replacement.score", "<= 10"),
    ("amend-implausible-run", {"type": "entry.amended", "target_event_id": TARGET,
                               "replacement": {"type": "run.logged", "distance_km": 10,
                                               "duration_min": 5, "rpe": 5}},
     ".data.replacement", "faster than humanly plausible"),
    # any type
    ("unknown-type", {"type": "heart_rate.logged", "bpm": 60},
     ".data.type", "unknown event type 'heart_rate.logged'"),
    ("no-type", {"score": 3, "context": "rest"}, ".data.type", "missing required field `type`"),
]

RECOMMENDATION = {
    "type": "recommendation.issued", "recommendation_id": TARGET, "athlete_id": "a1",
    "kind": "progress", "topic": "running", "rule_id": "r1", "explanation": "pain settled",
    "policy_name": "default", "policy_version": "1", "decision_time": "2026-03-02T06:00:00Z",
    "trigger_position": 3,
}

CLIENT_TYPES = set(EVENT_TYPES) - {"recommendation.issued", "recommendation.withdrawn"}


def test_the_cases_cover_every_client_event_type():
    """Every type a client may send has at least one accepted and one rejected case here."""
    assert {d["type"] for _, d in ACCEPTED} == CLIENT_TYPES
    assert {d.get("type") for _, d, _, _ in REJECTED} >= CLIENT_TYPES


# --- accepted -----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [d for _, d in ACCEPTED], ids=[i for i, _ in ACCEPTED])
def test_valid_event_is_accepted_from_json(data):
    """A valid event decodes from JSON to the typed event its tag names."""
    [event] = decode_batch(as_json(data))
    assert event_type(event.data) == data["type"]
    assert event.occurred_at == OCCURRED


@pytest.mark.parametrize("data", [d for _, d in ACCEPTED], ids=[i for i, _ in ACCEPTED])
def test_valid_event_is_accepted_from_python_dicts_as_from_json(data):
    """``validate`` on plain dicts accepts what JSON accepts and yields the same event."""
    assert validate([item(data)]) == decode_batch(as_json(data))


@pytest.mark.parametrize("data", [d for _, d in ACCEPTED], ids=[i for i, _ in ACCEPTED])
def test_valid_event_is_accepted_as_a_struct_built_in_python(data):
    """A NewEvent built directly in Python validates to an equal event."""
    built = NewEvent(data=msgspec.convert(data, EVENT_TYPES[data["type"]]), occurred_at=OCCURRED)
    assert validate([built]) == [built]


# --- rejected -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "path", "reason"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_invalid_event_is_rejected_from_json_with_path_and_reason(data, path, reason):
    """A bad event rejects the whole JSON batch, naming the field and why."""
    error = rejected(decode_batch, as_json(FIRST, data))
    assert error.path == "$[1]" + path
    assert reason in error.reason


@pytest.mark.parametrize(
    ("data", "path", "reason"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_invalid_event_is_rejected_from_python_dicts_with_path_and_reason(data, path, reason):
    """``validate`` on dicts rejects exactly as JSON input does."""
    error = rejected(validate, [item(FIRST), item(data)])
    assert error.path == "$[1]" + path
    assert reason in error.reason


def test_struct_built_in_python_is_range_checked():
    """msgspec does not check ranges on __init__; ``validate`` does."""
    built = NewEvent(data=PainReported(score=11, context=Context.REST), occurred_at=OCCURRED)
    error = rejected(validate, [built])
    assert (error.path, error.reason) == ("$[0].data.score", "Expected `int` <= 10")


def test_struct_nested_in_a_dict_is_range_checked():
    """A Struct inside a plain dict is validated too, not passed through unchecked."""
    error = rejected(validate, [{"data": PainReported(score=99, context=Context.REST),
                                 "occurred_at": OCCURRED}])
    assert error.path == "$[0].data.score"
    assert "<= 10" in error.reason


def test_unencodable_python_value_is_an_invalid_event():
    """An object that is not data at all is an InvalidEvent naming its item, not a TypeError."""
    error = rejected(validate, [item(FIRST), {"data": FIRST, "occurred_at": OCCURRED,
                                             "source": object()}])
    assert error.path == "$[1]"
    assert "object" in error.reason


NON_FINITE_FIELDS = [
    ("lift.logged", "load_kg"), ("lift.logged", "rpe"), ("run.logged", "distance_km"),
    ("run.logged", "duration_min"), ("run.logged", "rpe"), ("sleep.logged", "hours"),
    ("fuelling.logged", "energy_kcal"), ("athlete.enrolled", "body_mass_kg"),
    ("athlete.enrolled", "pre_injury_weekly_km"), ("readiness_test.recorded", "result"),
]
BASE = {d["type"]: d for _, d in reversed(ACCEPTED)}
"""The first accepted case of each type."""


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(("tag", "field"), NON_FINITE_FIELDS, ids=[f"{t}.{f}" for t, f in NON_FINITE_FIELDS])
def test_non_finite_numbers_are_rejected_from_python(tag, field, value):
    """NaN and infinities (which JSON cannot carry but Python can) are rejected at the field."""
    error = rejected(validate, [item({**BASE[tag], field: value})])
    assert error.path == f"$[0].data.{field}"
    assert error.reason.startswith("Expected `float`")


def test_non_finite_load_cannot_even_be_built():
    """LiftLogged refuses a NaN load at construction, before any validation."""
    with pytest.raises(ValueError, match="load_kg must be finite"):
        LiftLogged(exercise="squat", load_kg=math.nan, reps=5, sets=3, rpe=5)


def test_non_finite_rpe_on_a_built_struct_is_rejected():
    """A NaN that slipped past construction is caught by ``validate``."""
    built = NewEvent(data=RunLogged(distance_km=5, duration_min=30, rpe=math.nan), occurred_at=OCCURRED)
    assert rejected(validate, [built]).path == "$[0].data.rpe"


def test_overflowing_json_number_is_rejected():
    """A JSON number too large for a float (1e999) is rejected, never read as infinity."""
    raw = as_json(FIRST, BASE["lift.logged"]).replace(b'"load_kg":20', b'"load_kg":1e999')
    error = rejected(decode_batch, raw)
    assert error.path == "$[1].data.load_kg"
    assert "out of range" in error.reason


def test_recommendation_is_refused_from_clients_in_json():
    """recommendation.issued is the engine's own output; a client cannot send it."""
    error = rejected(decode_batch, as_json(FIRST, RECOMMENDATION))
    assert error.path == "$[1].data.type"
    assert "written by the engine, not by clients" in error.reason


def test_recommendation_is_refused_from_clients_in_python():
    """``validate`` refuses recommendation.issued the same way."""
    error = rejected(validate, [item(FIRST), item(RECOMMENDATION)])
    assert error.path == "$[1].data.type"
    assert "written by the engine" in error.reason


# --- the envelope -------------------------------------------------------------------------------


@pytest.mark.parametrize("naive", ["2026-03-02T07:30:00", "2026-03-02T07:30:00.250000"])
def test_naive_timestamp_is_rejected_from_json(naive):
    """occurred_at must carry a time zone: a local time without offset is ambiguous."""
    raw = msgspec.json.encode([item(FIRST), {"data": FIRST, "occurred_at": naive}])
    error = rejected(decode_batch, raw)
    assert error.path == "$[1].occurred_at"
    assert "timezone" in error.reason


def test_naive_timestamp_is_rejected_from_python():
    """A naive datetime in a NewEvent built in Python is rejected the same way."""
    built = NewEvent(data=SleepLogged(hours=7), occurred_at=dt.datetime(2026, 3, 2, 7, 30))
    error = rejected(validate, [built])
    assert error.path == "$[0].occurred_at"
    assert "timezone" in error.reason


def test_timestamp_with_offset_is_kept_as_the_same_instant():
    """An offset other than UTC is accepted and denotes the same instant."""
    raw = msgspec.json.encode([{"data": FIRST, "occurred_at": "2026-03-02T09:30:00+02:00"}])
    assert decode_batch(raw)[0].occurred_at == OCCURRED


@pytest.mark.parametrize(
    ("extra", "path", "reason"),
    [
        ({"weather": "rain"}, "$[1].weather", "unknown field `weather`"),
        ({"event_id": "not-a-uuid"}, "$[1].event_id", "Invalid UUID"),
        ({"correlation_id": 7}, "$[1].correlation_id", "Expected `uuid | null`"),
        ({"source": "s" * 65}, "$[1].source", "length <= 64"),
    ],
    ids=["unknown-field", "event-id", "correlation-id", "source"],
)
def test_bad_envelope_field_is_rejected(extra, path, reason):
    """The envelope is as strict as the payload: unknown or malformed fields are rejected."""
    error = rejected(decode_batch, msgspec.json.encode([item(FIRST), item(FIRST, **extra)]))
    assert error.path == path
    assert reason in error.reason


def test_missing_timestamp_is_rejected():
    """occurred_at is required."""
    error = rejected(decode_batch, msgspec.json.encode([{"data": FIRST}]))
    assert (error.path, error.reason) == ("$[0].occurred_at", "missing required field `occurred_at`")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"[]", "at least one event"), (b"{}", "Expected `array`, got `object`"),
     (b"[{", "truncated"), (b"[<", "malformed")],
    ids=["empty", "object", "truncated", "malformed"],
)
def test_unusable_batch_is_rejected_at_the_root(raw, reason):
    """A batch that is empty or not a JSON array of objects is rejected at ``$``."""
    error = rejected(decode_batch, raw)
    assert error.path == "$"
    assert reason in error.reason


def test_empty_python_batch_is_rejected():
    """``validate`` of nothing is rejected too."""
    assert "at least one event" in rejected(validate, []).reason


# --- size limits --------------------------------------------------------------------------------


def test_batch_at_the_event_limit_is_accepted():
    """MAX_BATCH_EVENTS events in one batch are fine."""
    assert len(decode_batch(as_json(*[FIRST] * MAX_BATCH_EVENTS))) == MAX_BATCH_EVENTS


def test_batch_over_the_event_limit_is_rejected_from_json():
    """One event more than MAX_BATCH_EVENTS rejects the batch."""
    error = rejected(decode_batch, as_json(*[FIRST] * (MAX_BATCH_EVENTS + 1)))
    assert error.path == "$"
    assert f"at most {MAX_BATCH_EVENTS} events, got {MAX_BATCH_EVENTS + 1}" in error.reason


def test_batch_over_the_event_limit_is_rejected_from_python():
    """``validate`` enforces the same batch limit."""
    error = rejected(validate, [item(FIRST)] * (MAX_BATCH_EVENTS + 1))
    assert f"at most {MAX_BATCH_EVENTS} events" in error.reason


def test_batch_over_the_byte_limit_is_rejected_before_decoding():
    """A payload over MAX_BATCH_BYTES is refused without being parsed."""
    raw = b"[" + b" " * MAX_BATCH_BYTES + b"]"
    error = rejected(decode_batch, raw)
    assert error.path == "$"
    assert f"the limit is {MAX_BATCH_BYTES}" in error.reason


def test_single_event_over_the_byte_limit_is_rejected():
    """``decode_event`` refuses a document over MAX_EVENT_BYTES."""
    raw = msgspec.json.encode(item(FIRST)) + b" " * MAX_EVENT_BYTES
    error = rejected(decode_event, raw)
    assert error.path == "$"
    assert f"the limit is {MAX_EVENT_BYTES}" in error.reason


def test_event_over_the_byte_limit_inside_a_batch_is_rejected(monkeypatch):
    """Each event of a batch is held to MAX_EVENT_BYTES, measured as re-encoded JSON."""
    monkeypatch.setattr(codec, "MAX_EVENT_BYTES", 512)
    big = {"type": "pain.reported", "score": 3, "context": "rest", "note": "n" * 600}
    error = rejected(decode_batch, as_json(FIRST, big))
    assert error.path == "$[1]"
    assert "the limit is 512" in error.reason


def test_largest_legal_client_event_fits_the_byte_limit():
    """The event limit only stops abuse: the biggest event the vocabulary allows fits under it."""
    worst_note = "\x00" * 1000  # control characters: six bytes each once escaped
    biggest = NewEvent(
        data=EntryAmended(
            target_event_id=uuid.UUID(TARGET), reason=worst_note,
            replacement=PainReported(score=10, context=Context.NEXT_MORNING, site="s" * 80,
                                     bony_tenderness=True, note=worst_note),
        ),
        occurred_at=OCCURRED, event_id=uuid.uuid4(), correlation_id=uuid.uuid4(),
        causation_id=uuid.uuid4(), source="s" * 64,
    )
    assert len(encode_json(biggest)) <= MAX_EVENT_BYTES
    assert validate([biggest]) == [biggest]


# --- properties ---------------------------------------------------------------------------------

out_of_range_scores = st.integers().filter(lambda s: not 0 <= s <= 10)


@given(score=out_of_range_scores, index=st.integers(0, 3))
def test_any_pain_score_outside_0_to_10_is_rejected_from_json(score, index):
    """Whatever the out-of-range score and wherever it sits, the path ends at its ``.score``."""
    datas = [FIRST] * index + [{"type": "pain.reported", "score": score, "context": "rest"}]
    error = rejected(decode_batch, as_json(*datas))
    assert error.path == f"$[{index}].data.score"


@given(score=out_of_range_scores)
def test_any_pain_score_outside_0_to_10_is_rejected_from_python(score):
    """The same property through ``validate`` on a directly built struct."""
    built = NewEvent(data=PainReported(score=score, context=Context.DURING), occurred_at=OCCURRED)
    assert rejected(validate, [built]).path.endswith(".score")


short_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.- ", min_size=1, max_size=80)
aware_datetimes = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=-5)),
                               dt.timezone(dt.timedelta(hours=5, minutes=30))]),
)
pain_events = st.builds(
    NewEvent,
    data=st.builds(
        PainReported,
        score=st.integers(0, 10),
        context=st.sampled_from(Context),
        site=short_text,
        bony_tenderness=st.booleans(),
        note=st.text(max_size=1000),
    ),
    occurred_at=aware_datetimes,
    event_id=st.none() | st.uuids(),
    source=st.text(max_size=64),
)


@given(event=pain_events)
def test_any_valid_pain_event_round_trips_through_json_unchanged(event):
    """encode -> decode_batch gives back an equal event (and validation accepts it as built)."""
    assert decode_batch(b"[" + encode_json(event) + b"]") == [event]
    assert validate([event]) == [event]


@given(event=pain_events)
def test_any_valid_pain_payload_round_trips_through_the_stored_form(event):
    """The store's MessagePack payload decodes to an equal event."""
    assert decode_payload("pain.reported", encode_payload(event.data)) == event.data


@given(
    distance=st.floats(0.1, 250),
    pace=st.floats(2.6, 29.9),
    kind=st.sampled_from([k for k in RunKind if k is not RunKind.WALK_RUN]),
)
def test_any_run_at_a_plausible_pace_is_accepted(distance, pace, kind):
    """Distance in (0, 250] km at 2.6-29.9 min/km within 30 h is a plausible run."""
    duration = min(distance * pace, 1800.0)
    if not 2.6 <= duration / distance <= 29.9:
        return  # capped by the 30 h limit: not the pace this property is about
    data = {"type": "run.logged", "distance_km": distance, "duration_min": duration, "rpe": 5,
            "kind": kind.value}
    [event] = decode_batch(as_json(data))
    assert event.data == RunLogged(distance_km=distance, duration_min=duration, rpe=5, kind=kind)


def test_enrolment_struct_checks_time_zone_at_construction():
    """An unknown time zone cannot even be built in Python."""
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        AthleteEnrolled(body_mass_kg=60, time_zone="Atlantis/Capital", pre_injury_weekly_km=30,
                        pre_injury_longest_run_km=10)
