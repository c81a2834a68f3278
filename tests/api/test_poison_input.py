"""Input that could break an athlete or the server is refused at the edge with a 4xx, and stores nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from api_support import enrolment, pain

from engine.ingest import EARLIEST_OCCURRED_AT, MAX_BEFORE_ENROLMENT

URL = "/v1/athletes/ath-1/events"
JSON = {"Content-Type": "application/json"}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_an_event_dated_0001_in_a_zone_west_of_utc_is_422_and_stores_nothing(client, admin, clock, api_store):
    """Given an enrolment in America/Los_Angeles dated 0001-01-01 (local-time arithmetic overflows),
    when it is posted, then it is refused at its occurred_at path and the athlete does not exist."""
    event = enrolment(clock.now(), time_zone="America/Los_Angeles")
    event["occurred_at"] = "0001-01-01T00:00:00+00:00"
    r = client.post(URL, json={"events": [event]}, headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == "$.events[0].occurred_at"
    assert api_store.stream_version("ath-1") == 0


def test_an_event_long_before_the_enrolment_is_422(client, admin, clock, api_store):
    """Given an enrolled athlete, when an event dated more than the documented window before the
    enrolment arrives, then it is refused; one just inside the window is stored."""
    assert client.post(URL, json={"events": [enrolment(clock.now())]}, headers=admin).status_code == 201
    too_early = clock.now() - MAX_BEFORE_ENROLMENT - dt.timedelta(minutes=1)
    r = client.post(URL, json={"events": [pain(too_early)]}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.events[0].occurred_at"
    inside = clock.now() - MAX_BEFORE_ENROLMENT + dt.timedelta(minutes=1)
    assert client.post(URL, json={"events": [pain(inside)]}, headers=admin).status_code == 201
    assert api_store.stream_version("ath-1") == 2
    assert EARLIEST_OCCURRED_AT.year == 2000


def test_an_event_far_in_the_future_is_422(client, admin, clock, api_store):
    """occurred_at more than the allowed skew ahead of the server clock is refused."""
    r = client.post(URL, json={"events": [enrolment(clock.now() + dt.timedelta(days=400))]}, headers=admin)
    assert r.status_code == 422 and api_store.stream_version("ath-1") == 0


@pytest.mark.parametrize("body", [
    b'{"events": ' + nested(3000) + b"}",        # inside the events (the part kept raw)
    b'{"events": [{"data": ' + nested(3000) + b"}]}",
    b'{"x": ' + nested(3000) + b"}",              # in an unknown field
])
def test_a_deeply_nested_body_is_400_not_500(client, admin, api_store, body):
    """A few KB of nested brackets is the client's fault: 400, and nothing is stored."""
    assert len(body) < 10_000
    r = client.post(URL, content=body, headers={**admin, **JSON})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["reason"]
    assert api_store.stream_version("ath-1") == 0


def test_a_deeply_nested_admin_body_is_400_not_500(client, admin):
    """The same on the admin key route, whose body Litestar decodes itself."""
    body = b'{"name": "x", "scopes": ["read"], "z": ' + nested(3000) + b"}"
    r = client.post("/v1/admin/keys", content=body, headers={**admin, **JSON})
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("body", [
    b'{"events": [], "events": []}',
    b'{"events": [{"occurred_at": "2026-03-02T08:00:00Z", "occurred_at": "2026-03-02T09:00:00Z"}]}',
])
def test_a_key_repeated_in_one_object_is_400(client, admin, api_store, body):
    """JSON with a repeated key is ambiguous (decoders keep one silently): refused, at any depth."""
    r = client.post(URL, content=body, headers={**admin, **JSON})
    assert r.status_code == 400 and "repeats the key" in r.json()["errors"][0]["reason"]
    assert api_store.stream_version("ath-1") == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_wrong_content_type_is_415(client, admin, clock, api_store, content_type):
    """A valid JSON body announced as something else is refused with 415 naming the header."""
    body = json.dumps({"events": [enrolment(clock.now())]}).encode()
    r = client.post(URL, content=body, headers={**admin, "Content-Type": content_type})
    assert r.status_code == 415, r.text
    assert r.json()["errors"][0]["location"] == "header"
    assert api_store.stream_version("ath-1") == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/vnd.strideline+json"])
def test_json_content_types_are_accepted(client, admin, clock, content_type):
    body = json.dumps({"events": [enrolment(clock.now())]}).encode()
    assert client.post(URL, content=body, headers={**admin, "Content-Type": content_type}).status_code == 201


def test_an_athlete_id_with_a_trailing_newline_is_refused(client, admin, clock, api_store):
    """The id is matched in full: 'ath-1\\n' is not 'ath-1' (a `$` anchor would let it through), and
    nothing is committed."""
    r = client.post("/v1/athletes/ath-1%0A/events", json={"events": [enrolment(clock.now())]}, headers=admin)
    assert 400 <= r.status_code < 500, r.text
    assert api_store.stream_version("ath-1\n") == 0 and api_store.stream_version("ath-1") == 0
