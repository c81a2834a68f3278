"""GET /v1/athletes/{id}/advice (the advice in force) and withdrawals in /recommendations."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import jsonschema_rs
from api_support import enrolment

from engine.notifiers import delivery_id
from events import NewEvent, recommendation_stream
from events.vocabulary import RecommendationIssued, RecommendationWithdrawn, WithdrawalReason

ATHLETE = "ath-advice"


def _issued(topic: str, kind: str, when: dt.datetime, **extra) -> RecommendationIssued:
    return RecommendationIssued(
        recommendation_id=uuid.uuid4(), athlete_id=ATHLETE, kind=kind, topic=topic, rule_id=f"test.{kind}",
        explanation=f"{kind} on {topic}", policy_name="test", policy_version="1", decision_time=when,
        trigger_position=1, **extra)


def _withdrawn(advice: RecommendationIssued, when: dt.datetime) -> RecommendationWithdrawn:
    return RecommendationWithdrawn(
        withdrawal_id=uuid.uuid4(), recommendation_id=advice.recommendation_id, athlete_id=ATHLETE,
        kind=advice.kind, topic=advice.topic, rule_id=advice.rule_id, reason=WithdrawalReason.CORRECTION,
        explanation="the pain score was amended", policy_name="test", policy_version="1",
        decision_time=when, trigger_position=2)


def _record(store, *events) -> None:
    store.append(recommendation_stream(ATHLETE), [
        NewEvent(data=e, occurred_at=e.decision_time, event_id=delivery_id(e)) for e in events])


def _enrol(client, headers, when: dt.datetime) -> None:
    r = client.post(f"/v1/athletes/{ATHLETE}/events",
                    json={"events": [enrolment(when, time_zone="America/Chicago")]}, headers=headers)
    assert r.status_code == 201, r.text


def _documented(client, path: str, status: str = "200") -> jsonschema_rs.Draft202012Validator:
    doc = client.get("/schema/openapi.json").json()
    schema = doc["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]}, validate_formats=True)


def test_the_advice_in_force_is_one_item_per_topic_in_the_athletes_zone(client, admin, clock, api_store):
    """Given a deload withdrawn and a long-run cap standing, when the advice is read, then only the
    cap is in force, dated in the athlete's zone, and the answer matches the documented schema."""
    _enrol(client, admin, clock.now())
    deload = _issued("pain", "deload", clock.now())
    cap = _issued("run:long_cap", "hold", clock.now(), target={"long_run_km": 8.5})
    _record(api_store, deload, cap, _withdrawn(deload, clock.now()))
    r = client.get(f"/v1/athletes/{ATHLETE}/advice", headers=admin)
    assert r.status_code == 200, r.text
    advice = r.json()
    assert (advice["athlete_id"], advice["time_zone"], advice["version"]) == (ATHLETE, "America/Chicago", 3)
    assert advice["local_date"] == clock.now().astimezone(dt.timezone(dt.timedelta(hours=-6))).date().isoformat()
    [item] = advice["items"]
    assert (item["topic"], item["recommendation_id"], item["target"]) == (
        "run:long_cap", str(cap.recommendation_id), {"long_run_km": 8.5})
    assert not list(_documented(client, "/v1/athletes/{athlete_id}/advice").iter_errors(advice))


def test_advice_for_an_unknown_athlete_is_404(client, admin):
    """Given no events for an athlete, when their advice is read, then 404 names the path parameter."""
    r = client.get("/v1/athletes/nobody/advice", headers=admin)
    assert r.status_code == 404
    assert r.json()["errors"][0]["path"] == "athlete_id"


def test_advice_needs_the_read_scope(client, admin, key_for, clock):
    """Given a key with only the ingest scope, when it reads the advice, then 403."""
    _enrol(client, admin, clock.now())
    assert client.get(f"/v1/athletes/{ATHLETE}/advice", headers=key_for("ingest")).status_code == 403
    assert client.get(f"/v1/athletes/{ATHLETE}/advice", headers=key_for("read")).status_code == 200


def test_the_openapi_document_types_the_advice_and_both_recommendation_entries(client):
    """Given the OpenAPI document, then the advice answer is AdviceInForce with AdviceItem items, and
    a recommendations entry is a union discriminated by ``type`` over issued and withdrawn."""
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    assert schemas["AdviceInForce"]["properties"]["items"]["items"]["$ref"] == "#/components/schemas/AdviceItem"
    assert {"topic", "kind", "local_date", "explanation"} <= set(schemas["AdviceItem"]["required"])
    entry = schemas["RecommendationEntry"]["properties"]["recommendation"]
    assert entry["discriminator"]["propertyName"] == "type"
    assert set(entry["discriminator"]["mapping"]) == {"recommendation.issued", "recommendation.withdrawn"}


def test_recommendations_list_issued_and_withdrawn_advice_with_their_type(client, admin, clock, api_store):
    """Given a deload and its withdrawal, when the recommendations are listed, then both come back in
    order, each with its ``type``, and the page matches the documented schema."""
    _enrol(client, admin, clock.now())
    deload = _issued("pain", "deload", clock.now())
    withdrawal = _withdrawn(deload, clock.now())
    _record(api_store, deload, withdrawal)
    page = client.get(f"/v1/athletes/{ATHLETE}/recommendations", headers=admin).json()
    entries = [e["recommendation"] for e in page["recommendations"]]
    assert [e["type"] for e in entries] == ["recommendation.issued", "recommendation.withdrawn"]
    assert (entries[1]["withdrawal_id"], entries[1]["recommendation_id"], entries[1]["reason"]) == (
        str(withdrawal.withdrawal_id), str(deload.recommendation_id), "correction")
    assert not list(_documented(client, "/v1/athletes/{athlete_id}/recommendations").iter_errors(page))


def test_a_long_poll_hands_out_a_withdrawal(client, admin, clock, api_store):
    """Given a client long-polling after the deload, when the deload is withdrawn, then the poll
    answers with the withdrawal."""
    _enrol(client, admin, clock.now())
    deload = _issued("pain", "deload", clock.now())
    _record(api_store, deload)
    answers: list[dict] = []
    poll = threading.Thread(target=lambda: answers.append(client.get(
        f"/v1/athletes/{ATHLETE}/recommendations", params={"after": 1, "wait": 10}, headers=admin).json()))
    poll.start()
    _record(api_store, _withdrawn(deload, clock.now()))
    poll.join(timeout=20)
    [page] = answers
    assert [e["recommendation"]["type"] for e in page["recommendations"]] == ["recommendation.withdrawn"]
