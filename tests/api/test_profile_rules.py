"""Inputs that used to be accepted silently are refused with a reason: a second enrolment (it would
change the time zone under every past decision) and events long before the enrolment."""

from __future__ import annotations

import datetime as dt

from api_support import enrolment, pain

from engine.ingest import MAX_BEFORE_ENROLMENT

URL = "/v1/athletes/ath-1/events"


def test_a_second_enrolment_changing_the_time_zone_is_refused(client, admin, clock, api_store):
    """Given an enrolled athlete, when another athlete.enrolled arrives with a new zone, then 422 at
    its type names both zones and nothing is stored."""
    client.post(URL, json={"events": [enrolment(clock.now())]}, headers=admin)
    again = enrolment(clock.now(), time_zone="Asia/Tokyo")
    r = client.post(URL, json={"events": [pain(clock.now()), again]}, headers=admin)
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert error["path"] == "$.events[1].data.type"
    assert "already enrolled" in error["reason"] and "Asia/Tokyo" in error["reason"]
    assert api_store.stream_version("ath-1") == 1


def test_two_enrolments_in_a_new_athletes_first_batch_are_refused(client, admin, clock, api_store):
    """Given a first batch with two enrolments, then the second is refused and nothing is stored."""
    r = client.post(URL, json={"events": [enrolment(clock.now()), enrolment(clock.now())]}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.events[1].data.type"
    assert api_store.stream_version("ath-1") == 0


def test_the_stored_enrolment_re_sent_in_a_superset_is_a_duplicate(client, admin, clock, api_store):
    """Given a stored first batch, when an offline queue re-sends it (enrolment included) with a new
    event, then the enrolment is a duplicate, not a second enrolment."""
    enrol = enrolment(clock.now())
    client.post(URL, json={"events": [enrol]}, headers=admin)
    r = client.post(URL, json={"events": [enrol, pain(clock.now())]}, headers=admin)
    assert r.status_code == 201, r.text
    assert [e["status"] for e in r.json()["events"]] == ["duplicate", "stored"]


def test_an_event_before_the_backfill_window_is_refused(client, admin, clock, api_store):
    """Given an enrolment, when an event is dated more than the back-fill window before it, then 422
    at its occurred_at names the window; one inside the window is accepted."""
    client.post(URL, json={"events": [enrolment(clock.now())]}, headers=admin)
    too_early = pain(clock.now() - MAX_BEFORE_ENROLMENT - dt.timedelta(days=1))
    r = client.post(URL, json={"events": [too_early]}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.events[0].occurred_at"
    assert f"{MAX_BEFORE_ENROLMENT.days} days before the enrolment" in r.json()["errors"][0]["reason"]
    inside = pain(clock.now() - MAX_BEFORE_ENROLMENT + dt.timedelta(days=1))
    assert client.post(URL, json={"events": [inside]}, headers=admin).status_code == 201
