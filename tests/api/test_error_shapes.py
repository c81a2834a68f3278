"""Validation errors a client can act on: every error of a batch at once, each at the exact field,
hints for the common wrong shapes, and 422 for every well-formed but invalid body."""

from __future__ import annotations

import datetime as dt

from api_support import at, enrolment, pain

URL = "/v1/athletes/ath-1/events"


def errors(r) -> list[tuple[str, str]]:
    return [(e["path"], e["reason"]) for e in r.json()["errors"]]


def test_every_invalid_event_of_a_batch_is_reported_at_once(client, admin, clock, api_store):
    """Given a batch with three broken events, when it is posted, then 422 lists each error at its
    field (an unknown zone at `time_zone`, each missing field at its own path) and nothing is stored."""
    enrol = enrolment(clock.now())
    enrol["data"]["time_zone"] = "London"
    bad_pain = pain(clock.now(), score=11)
    incomplete = enrolment(clock.now())
    for name in ("pre_injury_longest_run_km", "body_mass_kg"):
        del incomplete["data"][name]
    r = client.post(URL, json={"events": [enrol, bad_pain, incomplete]}, headers=admin)
    assert r.status_code == 422, r.text
    paths = [path for path, _ in errors(r)]
    assert paths == ["$.events[0].data.time_zone", "$.events[1].data.score",
                     "$.events[2].data.body_mass_kg", "$.events[2].data.pre_injury_longest_run_km"]
    assert "unknown IANA time zone 'London'" in errors(r)[0][1]
    assert errors(r)[3][1] == "missing required field `pre_injury_longest_run_km`"
    assert api_store.stream_version("ath-1") == 0


def test_every_timestamp_out_of_range_is_reported_at_once(client, admin, clock, api_store):
    """Given two events in the future, then both `occurred_at` paths are named."""
    later = clock.now() + dt.timedelta(days=2)
    r = client.post(URL, json={"events": [enrolment(clock.now()), pain(later), pain(later)]}, headers=admin)
    assert r.status_code == 422
    assert [p for p, _ in errors(r)] == ["$.events[1].occurred_at", "$.events[2].occurred_at"]


def test_a_bare_event_without_the_events_wrapper_gets_a_hint(client, admin, clock):
    """Given one event posted as the body, then 422 says to wrap it in `events`."""
    r = client.post(URL, json=enrolment(clock.now()), headers=admin)
    assert r.status_code == 422
    assert '{"events": [{...}]}' in errors(r)[0][1]


def test_a_bare_array_gets_a_hint(client, admin, clock):
    """Given a JSON array as the body, then 422 says to send it as `{"events": [...]}`."""
    r = client.post(URL, json=[enrolment(clock.now())], headers=admin)
    assert r.status_code == 422 and '{"events": [...]}' in errors(r)[0][1]


def test_a_flat_event_without_data_gets_a_hint(client, admin, clock):
    """Given an event whose fields sit beside `occurred_at`, then 422 at `data` explains the nesting."""
    flat = {"occurred_at": at(clock.now()), "type": "sleep.logged", "hours": 7}
    r = client.post(URL, json={"events": [enrolment(clock.now()), flat]}, headers=admin)
    assert r.status_code == 422
    path, reason = errors(r)[0]
    assert path == "$.events[1].data" and "go under `data`" in reason


def test_an_invalid_admin_body_is_422_like_an_invalid_event(client, admin):
    """Given a key request with an unknown scope, then 422 (as for any invalid body), naming the field."""
    r = client.post("/v1/admin/keys", json={"name": "app", "scopes": ["bogus"]}, headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"].startswith("$.scopes")


def test_a_malformed_admin_body_stays_400(client, admin):
    """Given a key request that is not JSON, then 400 (malformed), not 422 (invalid)."""
    r = client.post("/v1/admin/keys", content=b'{"name": ', headers={**admin, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text


def test_a_batch_of_many_broken_events_lists_at_most_a_hundred_errors(client, admin, clock):
    """Given 300 broken events, then 100 errors are listed, the last saying how many were left out."""
    r = client.post(URL, json={"events": [pain(clock.now(), score=11) for _ in range(300)]}, headers=admin)
    assert r.status_code == 422
    listed = r.json()["errors"]
    assert len(listed) == 100 and listed[-1]["reason"] == "201 more errors not listed: fix these first"
    assert listed[98]["path"] == "$.events[98].data.score"


def test_a_wrong_field_at_the_root_of_a_small_body_is_named_with_422(client, admin):
    """Given a key-creation body with a misspelt field, then 422 names the field itself (it is not
    "a JSON request body is required": a body was sent)."""
    r = client.post("/v1/admin/keys", json={"nam": "ops", "scopes": ["read"]}, headers=admin)
    assert r.status_code == 422, r.text
    assert errors(r) == [("$.nam", "unknown field `nam`")]


def test_a_missing_field_at_the_root_of_a_small_body_is_named_with_422(client, admin):
    """Given a key-creation body without its name, then 422 points at `$.name`."""
    r = client.post("/v1/admin/keys", json={"scopes": ["read"]}, headers=admin)
    assert r.status_code == 422, r.text
    assert errors(r) == [("$.name", "missing required field `name`")]


def test_no_body_at_all_is_a_malformed_request(client, admin):
    """Given a key creation with an empty body, then 400 says a JSON body is required."""
    r = client.post("/v1/admin/keys", content=b"", headers=admin)
    assert r.status_code == 400
    assert errors(r) == [("$", "a JSON request body is required")]
