"""An offline queue re-sends a superset of an earlier batch: the API stores what is new and says,
per event, what was already stored, instead of refusing the whole batch."""

from __future__ import annotations

from api_support import enrolment, injury, pain

URL = "/v1/athletes/ath-1/events"


def test_a_resent_superset_stores_the_new_events_and_marks_the_duplicates(client, admin, clock, api_store):
    """Given a stored batch whose answer the app never saw, when it re-sends that batch plus a new
    event, then 201 stores only the new one and each event says `stored` or `duplicate`."""
    old = [enrolment(clock.now()), injury(clock.now())]
    client.post(URL, json={"events": old}, headers=admin)
    new = pain(clock.now())
    r = client.post(URL, json={"events": [*old, new], "expected_version": 0}, headers=admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["deduplicated"] is False and body["version"] == 3
    assert [(e["event_id"], e["status"], e["version"]) for e in body["events"]] == [
        (old[0]["event_id"], "duplicate", 1), (old[1]["event_id"], "duplicate", 2),
        (new["event_id"], "stored", 3)]
    assert r.headers["location"] == "/v1/athletes/ath-1/events?from_version=3"
    assert api_store.stream_version("ath-1") == 3


def test_a_superset_with_a_changed_stored_event_is_409_naming_it(client, admin, clock, api_store):
    """Given a stored event, when a superset re-sends its id with other content, then 409 points at
    that event's path and nothing of the batch is stored."""
    enrol = enrolment(clock.now())
    client.post(URL, json={"events": [enrol]}, headers=admin)
    changed = dict(enrol, data=dict(enrol["data"], body_mass_kg=90))
    r = client.post(URL, json={"events": [pain(clock.now()), changed]}, headers=admin)
    assert r.status_code == 409
    assert r.json()["errors"][0]["path"] == "$.events[1].event_id"
    assert enrol["event_id"] in r.json()["errors"][0]["reason"]
    assert api_store.stream_version("ath-1") == 1
