"""POST /v1/athletes/{id}/events: the contract of ingest over HTTP."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from api_support import enrolment, injury, lift, pain

from engine.api.app import MAX_BODY_BYTES

URL = "/v1/athletes/ath-1/events"


def stored_count(store, athlete: str = "ath-1") -> int:
    return store.stream_version(athlete)


def test_a_valid_batch_is_stored_and_answered_with_versions_and_positions(client, admin, clock, api_store):
    """201 with each event's id, stream version and global position."""
    batch = [enrolment(clock.now()), injury(clock.now())]
    r = client.post(URL, json={"events": batch}, headers=admin)
    assert r.status_code == 201
    body = r.json()
    assert body["athlete_id"] == "ath-1" and body["version"] == 2 and body["deduplicated"] is False
    assert [e["version"] for e in body["events"]] == [1, 2]
    assert [e["event_id"] for e in body["events"]] == [e["event_id"] for e in batch]
    assert all(e["position"] >= 1 for e in body["events"])
    assert r.headers["location"] == "/v1/athletes/ath-1/events?from_version=1"
    assert stored_count(api_store) == 2


def test_a_pure_retry_is_200_deduplicated_and_stores_nothing(client, admin, clock, api_store):
    """The same event ids again: 200, deduplicated, the same versions, no new events."""
    batch = [enrolment(clock.now()), injury(clock.now())]
    first = client.post(URL, json={"events": batch}, headers=admin)
    retry = client.post(URL, json={"events": batch}, headers=admin)
    assert retry.status_code == 200
    assert retry.json()["deduplicated"] is True
    assert [dict(e, status="stored") for e in retry.json()["events"]] == first.json()["events"]
    assert {e["status"] for e in retry.json()["events"]} == {"duplicate"}
    assert stored_count(api_store) == 2


def test_a_reused_event_id_with_other_content_is_409(client, admin, clock, api_store):
    """IdempotencyConflict: 409 naming the event's path; nothing stored."""
    enrol = enrolment(clock.now())
    client.post(URL, json={"events": [enrol]}, headers=admin)
    changed = dict(enrol, data=dict(enrol["data"], body_mass_kg=90))
    r = client.post(URL, json={"events": [changed]}, headers=admin)
    assert r.status_code == 409
    assert r.json()["errors"][0]["path"] == "$.events[0].event_id"
    assert stored_count(api_store) == 1


def test_a_stale_expected_version_is_409_with_both_versions(client, admin, clock, api_store):
    """VersionConflict: 409 with expected and actual versions; nothing stored."""
    client.post(URL, json={"events": [enrolment(clock.now())]}, headers=admin)
    r = client.post(URL, json={"events": [pain(clock.now())], "expected_version": 0}, headers=admin)
    assert r.status_code == 409
    body = r.json()
    assert (body["expected_version"], body["actual_version"]) == (0, 1)
    assert body["errors"][0]["path"] == "$.expected_version"
    assert stored_count(api_store) == 1


def test_a_matching_expected_version_appends(client, admin, clock):
    """expected_version equal to the head: 201."""
    client.post(URL, json={"events": [enrolment(clock.now())]}, headers=admin)
    r = client.post(URL, json={"events": [pain(clock.now())], "expected_version": 1}, headers=admin)
    assert r.status_code == 201 and r.json()["version"] == 2


@pytest.mark.parametrize(("event", "path", "reason_part"), [
    (lambda t: pain(t, score=11), "$.events[2].data.score", "<= 10"),
    (lambda t: pain(t, score="3"), "$.events[2].data.score", "Expected `int`"),
    (lambda t: pain(t, mood="grumpy"), "$.events[2].data.mood", "unknown field `mood`"),
    (lambda t: {**pain(t), "occurred_at": "2026-03-02T08:00:00"}, "$.events[2].occurred_at", "timezone"),
    (lambda t: {**pain(t), "occurred_at": (t + dt.timedelta(days=1)).isoformat()},
     "$.events[2].occurred_at", "future"),
    (lambda t: {**pain(t), "data": {"type": "mood.logged"}}, "$.events[2].data.type", "unknown event type"),
    (lambda t: {**lift(t), "data": {**lift(t)["data"], "load_kg": -1}}, "$.events[2].data.load_kg", ">= 0"),
])
def test_an_invalid_event_is_422_with_its_body_path_and_nothing_is_stored(
        client, admin, clock, api_store, event, path, reason_part):
    """The batch is all or nothing; the error's path points into the request body."""
    batch = [enrolment(clock.now()), injury(clock.now()), event(clock.now())]
    r = client.post(URL, json={"events": batch}, headers=admin)
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["path"] == path
    assert reason_part in error["reason"]
    assert error["location"] == "body"
    assert stored_count(api_store) == 0


def test_validation_is_identical_to_the_python_api(client, admin, clock, runtime):
    """The same bad batch gives the Python API's reason, at the batch path mapped under $.events."""
    from events import InvalidEvent

    batch = [enrolment(clock.now(), time_zone="Mars/Olympus")]
    with pytest.raises(InvalidEvent) as python:
        runtime.ingestor.append("ath-1", batch)
    r = client.post(URL, json={"events": batch}, headers=admin)
    [error] = r.json()["errors"]
    assert error["reason"] == python.value.reason
    assert error["path"] == "$.events" + python.value.path[1:]


def test_the_first_event_must_be_an_enrolment(client, admin, clock):
    """Stream rule: a new athlete starts with athlete.enrolled."""
    r = client.post(URL, json={"events": [pain(clock.now())]}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.events[0].data.type"


def test_clients_cannot_send_recommendations(client, admin, clock):
    """recommendation.issued is the engine's own event type."""
    rec = {"occurred_at": clock.now().isoformat(), "data": {
        "type": "recommendation.issued", "recommendation_id": str(uuid.uuid4()), "athlete_id": "ath-1",
        "kind": "hold", "topic": "x", "rule_id": "x", "explanation": "x", "policy_name": "x",
        "policy_version": "1", "decision_time": clock.now().isoformat(), "trigger_position": 1}}
    r = client.post(URL, json={"events": [enrolment(clock.now()), rec]}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.events[1].data.type"


@pytest.mark.parametrize(("body", "status", "path"), [
    (b"", 400, "$"),
    (b"{", 400, "$"),
    (b"[]", 422, "$"),
    (b'{"events": []}', 422, "$.events"),
    (b'{"events": {}}', 422, "$.events"),
    (b'{"events": null}', 422, "$.events"),
    (b'{"evnts": []}', 422, "$.evnts"),
    (b'{"events": [], "extra": 1}', 422, "$.extra"),
    (b'{"events": [{}], "expected_version": "1"}', 422, "$.expected_version"),
    (b'{"events": [{"occurred_at": "2026-03-02T08:00:00Z"}], "expected_version": -1}', 422, None),
    (b'{"events": [1, 2]}', 422, "$.events[0]"),
])
def test_a_malformed_body_is_refused_with_a_path(client, admin, api_store, body, status, path):
    """Not JSON, wrong shape, unknown fields, bad expected_version: 4xx naming where."""
    r = client.post(URL, content=body, headers={**admin, "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    error = r.json()["errors"][0]  # the first; every broken event is listed (test_error_shapes.py)
    if path is not None:
        assert error["path"] == path
    assert error["reason"]
    assert stored_count(api_store) == 0


def test_a_negative_expected_version_is_refused(client, admin, clock, api_store):
    """expected_version must be >= 0 (ingest's own rule, reported at its body path)."""
    r = client.post(URL, json={"events": [enrolment(clock.now())], "expected_version": -1}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.expected_version"


@pytest.mark.parametrize("athlete", ["a b", "x" * 65, "caf\u00e9", "a.b"])
def test_an_invalid_athlete_id_is_400(client, admin, clock, athlete):
    """The path parameter's pattern is enforced before anything else."""
    r = client.post(f"/v1/athletes/{athlete}/events", json={"events": [enrolment(clock.now())]},
                    headers=admin)
    assert r.status_code in (400, 404)
    assert r.json()["errors"][0]["reason"]


def test_a_body_over_the_size_limit_is_413(client, admin, api_store):
    """Request size limit: 413 before anything is decoded."""
    r = client.post(URL, content=b" " * (MAX_BODY_BYTES + 1), headers={**admin, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["errors"][0]["reason"]
    assert stored_count(api_store) == 0
