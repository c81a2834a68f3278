"""Local time where an app shows it: recommendation entries and the coach's view carry the athlete's
time zone and local date (and date-time) beside UTC, so a Tokyo app never shows yesterday's date."""

from __future__ import annotations

import datetime as dt
import uuid

from api_support import enrolment

from engine.pipeline import append_recommendations
from events.vocabulary import RecommendationIssued, RecommendationWithdrawn, WithdrawalReason

ATHLETE = "ath-tokyo"
EVENING_UTC = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.timezone.utc)  # 2026-03-02 05:00 in Tokyo


def enrol_in_tokyo(client, headers, when: dt.datetime) -> None:
    r = client.post(f"/v1/athletes/{ATHLETE}/events", headers=headers,
                    json={"events": [enrolment(when, time_zone="Asia/Tokyo")]})
    assert r.status_code == 201, r.text


def issued(decided: dt.datetime) -> RecommendationIssued:
    return RecommendationIssued(
        recommendation_id=uuid.uuid4(), athlete_id=ATHLETE, kind="hold", topic="strength",
        rule_id="test.rule", explanation="a test recommendation", policy_name="test",
        policy_version="1", decision_time=decided, trigger_position=1)


def test_a_recommendation_decided_in_the_utc_evening_shows_the_next_tokyo_date(client, admin, clock, api_store):
    """Given a Tokyo athlete and advice decided at 2026-03-01T20:00Z, when the recommendations are
    listed, then the entry keeps its UTC decision time and adds Asia/Tokyo, local date 2026-03-02
    and the local date-time 05:00+09:00."""
    enrol_in_tokyo(client, admin, EVENING_UTC - dt.timedelta(days=1))
    append_recommendations(api_store, ATHLETE, [issued(EVENING_UTC)])
    [entry] = client.get(f"/v1/athletes/{ATHLETE}/recommendations", headers=admin).json()["recommendations"]
    assert entry["recommendation"]["decision_time"].startswith("2026-03-01T20:00:00")
    assert entry["time_zone"] == "Asia/Tokyo" and entry["local_date"] == "2026-03-02"
    assert entry["local_decision_time"] == "2026-03-02T05:00:00+09:00"


def test_a_withdrawal_carries_its_local_date_too(client, admin, clock, api_store):
    """Given advice withdrawn at 2026-03-01T20:00Z for a Tokyo athlete, when listed, then the
    withdrawal's entry shows the Tokyo date 2026-03-02."""
    enrol_in_tokyo(client, admin, EVENING_UTC - dt.timedelta(days=1))
    advice = issued(EVENING_UTC - dt.timedelta(hours=12))
    withdrawal = RecommendationWithdrawn(
        withdrawal_id=uuid.uuid4(), recommendation_id=advice.recommendation_id, athlete_id=ATHLETE,
        kind="hold", topic="strength", rule_id="test.rule", reason=WithdrawalReason.SUPERSEDED, explanation="replaced",
        policy_name="test", policy_version="1", decision_time=EVENING_UTC, trigger_position=2)
    append_recommendations(api_store, ATHLETE, [advice, withdrawal])
    entries = client.get(f"/v1/athletes/{ATHLETE}/recommendations", headers=admin).json()["recommendations"]
    assert [(e["recommendation"]["type"], e["local_date"]) for e in entries] == [
        ("recommendation.issued", "2026-03-01"), ("recommendation.withdrawn", "2026-03-02")]


def test_the_view_gives_the_athletes_local_date_beside_utc(client, admin, clock):
    """Given a Tokyo athlete and the server clock at 2026-03-02T20:00Z, when the view is read, then
    it keeps ``as_of`` in UTC and adds Asia/Tokyo, local date 2026-03-03 and 05:00+09:00."""
    enrol_in_tokyo(client, admin, clock.now())
    clock.set(dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.timezone.utc))
    view = client.get(f"/v1/athletes/{ATHLETE}/view", headers=admin).json()
    assert view["as_of"].startswith("2026-03-02T20:00:00")
    assert view["time_zone"] == "Asia/Tokyo" and view["local_date"] == "2026-03-03"
    assert view["local_as_of"] == "2026-03-03T05:00:00+09:00"


def test_the_openapi_document_lists_the_local_fields(client):
    """The schemas generate the document: the local fields are there, required, for generated clients."""
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    entry = next(s for name, s in schemas.items() if name.endswith("RecommendationEntry"))
    view = next(s for name, s in schemas.items() if name.endswith("AthleteView"))
    assert {"time_zone", "local_date", "local_decision_time"} <= set(entry["required"])
    assert {"time_zone", "local_date", "local_as_of"} <= set(view["required"])
