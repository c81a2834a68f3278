"""athlete.profile_updated over HTTP: the one way to change a time zone, body mass or pre-injury
volume after enrolment; validated at the field, refused before the enrolment, in force from its
occurred_at on (the series dates later events in the new zone)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from api_support import at, enrolment, pain

URL = "/v1/athletes/ath-1"


def profile_update(when: dt.datetime, **fields: Any) -> dict[str, Any]:
    return {"occurred_at": at(when), "event_id": str(uuid.uuid4()),
            "data": {"type": "athlete.profile_updated", **fields}}


def run(when: dt.datetime, km: float) -> dict[str, Any]:
    return {"occurred_at": at(when), "event_id": str(uuid.uuid4()),
            "data": {"type": "run.logged", "distance_km": km, "duration_min": km * 6, "rpe": 4}}


def test_a_move_dates_later_events_in_the_new_zone(client, admin, clock):
    """Given a London athlete with a run at 23:30 UTC, when they move to Tokyo and run at 23:30 UTC
    again, then the first run stays on its London date, the second lands on the next Tokyo date, and
    the series names Tokyo as the zone."""
    start = clock.now() - dt.timedelta(days=6)                       # 2026-02-24 08:00 UTC
    first_run = start.replace(hour=23, minute=30)                    # 2026-02-24 in London
    moved = start + dt.timedelta(days=2)
    second_run = first_run + dt.timedelta(days=3)                    # 2026-02-28 08:30 in Tokyo
    events = [enrolment(start), run(first_run, 5), profile_update(moved, time_zone="Asia/Tokyo"),
              run(second_run, 8)]
    assert client.post(f"{URL}/events", json={"events": events}, headers=admin).status_code == 201
    body = client.get(f"{URL}/series", params={"from": "2026-02-24", "to": "2026-02-28", "metrics": "km"},
                      headers=admin).json()
    assert body["time_zone"] == "Asia/Tokyo"
    assert {d["date"]: d["km"] for d in body["days"]} == {
        "2026-02-24": 5, "2026-02-25": 0, "2026-02-26": 0, "2026-02-27": 0, "2026-02-28": 8}


def test_a_profile_update_before_enrolment_is_refused(client, admin, clock, api_store):
    """Given a new athlete, when the first batch opens with a profile update, then 422 at its type
    says the first event must be athlete.enrolled, and nothing is stored."""
    r = client.post(f"{URL}/events", json={"events": [profile_update(clock.now(), body_mass_kg=60),
                                                      enrolment(clock.now())]}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.events[0].data.type"
    assert "the first must be athlete.enrolled" in r.json()["errors"][0]["reason"]
    assert api_store.stream_version("ath-1") == 0


def test_a_profile_update_dated_before_the_enrolment_is_refused(client, admin, clock, api_store):
    """Given an enrolment, when a profile update is dated a day before it, then 422 at its
    occurred_at and nothing is stored."""
    client.post(f"{URL}/events", json={"events": [enrolment(clock.now())]}, headers=admin)
    early = profile_update(clock.now() - dt.timedelta(days=1), time_zone="Asia/Tokyo")
    r = client.post(f"{URL}/events", json={"events": [pain(clock.now()), early]}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.events[1].occurred_at"
    assert "before the enrolment" in r.json()["errors"][0]["reason"]
    assert api_store.stream_version("ath-1") == 1


@pytest.mark.parametrize("fields,path,reason", [
    ({}, "$.events[1].data", "at least one of time_zone"),
    ({"time_zone": "London"}, "$.events[1].data.time_zone", "unknown IANA time zone 'London'"),
    ({"body_mass_kg": 0}, "$.events[1].data.body_mass_kg", "> 20"),
    ({"pre_injury_weekly_km": 0}, "$.events[1].data.pre_injury_weekly_km", "> 0"),
    ({"pre_injury_longest_run_km": -3}, "$.events[1].data.pre_injury_longest_run_km", "> 0"),
    ({"pre_injury_weekly_km": 10, "pre_injury_longest_run_km": 15},
     "$.events[1].data.pre_injury_longest_run_km", "exceeds pre_injury_weekly_km"),
    ({"weight": 60}, "$.events[1].data.weight", "unknown field `weight`"),
])
def test_an_invalid_profile_update_is_422_at_its_field(client, admin, clock, api_store, fields, path, reason):
    """Each invalid update is refused at the exact field (the event at `data` when it names none),
    and nothing of the batch is stored."""
    batch = [enrolment(clock.now()), profile_update(clock.now(), **fields)]
    r = client.post(f"{URL}/events", json={"events": batch}, headers=admin)
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert error["path"] == path and reason in error["reason"], error
    assert api_store.stream_version("ath-1") == 0


def test_a_second_enrolment_points_to_the_profile_update(client, admin, clock):
    """Given an enrolled athlete, when another enrolment arrives, then the refusal names
    athlete.profile_updated as the way to change the profile."""
    client.post(f"{URL}/events", json={"events": [enrolment(clock.now())]}, headers=admin)
    r = client.post(f"{URL}/events", json={"events": [enrolment(clock.now(), body_mass_kg=60)]}, headers=admin)
    assert r.status_code == 422 and "send athlete.profile_updated" in r.json()["errors"][0]["reason"]


def test_the_view_shows_the_updated_body_mass_and_zone(live_client, admin, clock):
    """Given an enrolment and a profile update, when the projector has folded both, then the coach's
    view carries the new time zone."""
    events = [enrolment(clock.now() - dt.timedelta(hours=2)),
              profile_update(clock.now() - dt.timedelta(hours=1), time_zone="America/New_York", body_mass_kg=63)]
    appended = live_client.post(f"{URL}/events", json={"events": events}, headers=admin).json()
    view = live_client.get(f"{URL}/view", params={"min_version": appended["version"], "wait": 30},
                           headers=admin).json()
    assert view["version"] == 2 and view["time_zone"] == "America/New_York"
