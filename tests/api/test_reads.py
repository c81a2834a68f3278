"""GET events (paged), the coach's view, recommendations (paged, long-poll), health and readiness."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from api_support import enrolment, injury, lift, pain

from engine.pipeline import append_recommendations
from events.vocabulary import RecommendationIssued

ATHLETE = "ath-read"


def log(client, headers, events, athlete=ATHLETE):
    r = client.post(f"/v1/athletes/{athlete}/events", json={"events": events}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def fake_recommendations(athlete: str, n: int, when: dt.datetime) -> list[RecommendationIssued]:
    return [RecommendationIssued(
        recommendation_id=uuid.uuid4(), athlete_id=athlete, kind="hold", topic="strength",
        rule_id=f"test.rule_{i}", explanation="a test recommendation", policy_name="test",
        policy_version="1", decision_time=when, trigger_position=i + 1) for i in range(n)]


# -- events ------------------------------------------------------------------------------------


def test_events_are_paged_with_a_next_cursor(client, admin, clock):
    """limit bounds a page; next_from_version walks to the head, then is null."""
    t = clock.now()
    log(client, admin, [enrolment(t), injury(t), pain(t), pain(t), lift(t)])
    seen, cursor = [], 1
    while cursor is not None:
        page = client.get(f"/v1/athletes/{ATHLETE}/events",
                          params={"from_version": cursor, "limit": 2}, headers=admin).json()
        assert page["version"] == 5 and len(page["events"]) <= 2
        seen += [e["version"] for e in page["events"]]
        cursor = page["next_from_version"]
    assert seen == [1, 2, 3, 4, 5]


def test_events_come_back_as_stored_envelopes(client, admin, clock):
    """Each event carries its envelope (id, versions, times) and its tagged data."""
    enrol = enrolment(clock.now())
    log(client, admin, [enrol])
    [event] = client.get(f"/v1/athletes/{ATHLETE}/events", headers=admin).json()["events"]
    assert event["event_id"] == enrol["event_id"] and event["stream"] == ATHLETE
    assert event["data"]["type"] == "athlete.enrolled" and event["data"]["body_mass_kg"] == 68
    assert event["recorded_at"].startswith("2026-03-02T08:00:00")


def test_reading_past_the_head_gives_an_empty_last_page(client, admin, clock):
    """from_version beyond the head: no events, no next cursor."""
    log(client, admin, [enrolment(clock.now())])
    page = client.get(f"/v1/athletes/{ATHLETE}/events", params={"from_version": 9}, headers=admin).json()
    assert page["events"] == [] and page["next_from_version"] is None


@pytest.mark.parametrize("endpoint", ["events", "view", "recommendations"])
def test_an_unknown_athlete_is_404(client, admin, endpoint):
    """No events, no athlete: 404 naming the path parameter."""
    r = client.get(f"/v1/athletes/nobody/{endpoint}", headers=admin)
    assert r.status_code == 404
    assert r.json()["errors"][0] == {"path": "athlete_id", "location": "path",
                                     "reason": "athlete 'nobody' has no events (enrol them first)"}


@pytest.mark.parametrize(("endpoint", "params", "name"), [
    ("events", {"limit": 0}, "limit"),
    ("events", {"limit": 1001}, "limit"),
    ("events", {"from_version": 0}, "from_version"),
    ("events", {"limit": "ten"}, "limit"),
    ("recommendations", {"after": -1}, "after"),
    ("recommendations", {"wait": 31}, "wait"),
    ("view", {"min_version": 2**60}, "min_version"),
])
def test_an_invalid_query_parameter_is_400_naming_it(client, admin, clock, endpoint, params, name):
    """Query parameters are validated against the documented bounds."""
    log(client, admin, [enrolment(clock.now())])
    r = client.get(f"/v1/athletes/{ATHLETE}/{endpoint}", params=params, headers=admin)
    assert r.status_code == 400
    [error] = r.json()["errors"]
    assert error == {"path": name, "location": "query", "reason": error["reason"]}


# -- recommendations ---------------------------------------------------------------------------


def test_recommendations_are_paged_by_an_after_cursor(client, admin, clock, api_store):
    """after/limit page through the recommendation stream; has_more says when to go on."""
    log(client, admin, [enrolment(clock.now())])
    append_recommendations(api_store, ATHLETE, fake_recommendations(ATHLETE, 5, clock.now()))
    url = f"/v1/athletes/{ATHLETE}/recommendations"
    first = client.get(url, params={"limit": 3}, headers=admin).json()
    assert [e["version"] for e in first["recommendations"]] == [1, 2, 3]
    assert first["next_after"] == 3 and first["has_more"] is True
    second = client.get(url, params={"after": 3, "limit": 3}, headers=admin).json()
    assert [e["recommendation"]["rule_id"] for e in second["recommendations"]] == ["test.rule_3", "test.rule_4"]
    assert second["next_after"] == 5 and second["has_more"] is False


def test_a_long_poll_with_nothing_new_answers_empty_when_the_wait_ends(client, admin, clock):
    """wait holds an empty answer until the wait (capped by the server) runs out."""
    log(client, admin, [enrolment(clock.now())])
    started = time.monotonic()
    page = client.get(f"/v1/athletes/{ATHLETE}/recommendations", params={"wait": 0.3}, headers=admin).json()
    assert time.monotonic() - started >= 0.3
    assert page["recommendations"] == [] and page["next_after"] == 0


def test_a_long_poll_answers_at_once_when_recommendations_are_waiting(client, admin, clock, api_store):
    """Nothing to wait for: the answer is immediate even with a long wait."""
    log(client, admin, [enrolment(clock.now())])
    append_recommendations(api_store, ATHLETE, fake_recommendations(ATHLETE, 1, clock.now()))
    started = time.monotonic()
    page = client.get(f"/v1/athletes/{ATHLETE}/recommendations", params={"wait": 30}, headers=admin).json()
    assert time.monotonic() - started < 5
    assert len(page["recommendations"]) == 1


def test_the_pipeline_issues_recommendations_that_a_long_poll_receives(live_client, admin, clock):
    """Live: events in, the in-process workers project them, the long-poll hands out the result."""
    t = clock.now()
    log(live_client, admin, [enrolment(t), injury(t), pain(t, score=5)])
    page = live_client.get(f"/v1/athletes/{ATHLETE}/recommendations", params={"wait": 30},
                           headers=admin).json()
    assert page["recommendations"], "the pipeline issued nothing within the wait"
    rec = page["recommendations"][0]["recommendation"]
    assert rec["athlete_id"] == ATHLETE and rec["kind"] and rec["explanation"]


# -- view --------------------------------------------------------------------------------------


def test_the_view_waits_for_the_projection_to_reach_min_version(live_client, admin, clock):
    """Read your writes: min_version + wait answers once the projection includes the append."""
    t = clock.now()
    appended = log(live_client, admin, [enrolment(t), injury(t), lift(t)])
    r = live_client.get(f"/v1/athletes/{ATHLETE}/view",
                        params={"min_version": appended["version"], "wait": 30}, headers=admin)
    assert r.status_code == 200
    view = r.json()
    assert view["version"] == 3 and r.headers["x-stream-version"] == "3"
    assert view["athlete_id"] == ATHLETE and view["phase"]["phase"] == "settle"
    assert view["capacity"]["best_e1rm_kg"]["squat"] > 40
    assert set(view) >= {"phase", "capacity", "load", "pain", "adherence", "as_of"}


def test_the_view_of_an_athlete_not_yet_projected_is_the_initial_state(client, admin, clock):
    """Without workers the projection lags: version 0, the stream head in X-Stream-Version."""
    log(client, admin, [enrolment(clock.now())])
    r = client.get(f"/v1/athletes/{ATHLETE}/view", headers=admin)
    assert r.status_code == 200
    assert r.json()["version"] == 0 and r.headers["x-stream-version"] == "1"


# -- health ------------------------------------------------------------------------------------


def test_health_is_ok(client):
    """Liveness answers without touching dependencies."""
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_checks_the_store(client):
    """Readiness reports each dependency."""
    r = client.get("/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"store": "ok"}}


def test_ready_reports_the_in_process_workers(live_client):
    """With start_workers the pipeline is part of readiness."""
    assert live_client.get("/ready").json()["checks"] == {"store": "ok", "workers": "in-process"}


def test_ready_is_503_when_the_store_fails(client, api_store):
    """A closed store: 503, the failing check named."""
    api_store.close()
    original = api_store._conn

    def broken():
        raise RuntimeError("store down")

    api_store._conn = broken
    try:
        r = client.get("/ready")
    finally:
        api_store._conn = original
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "checks": {"store": "error: RuntimeError"}}


def test_redis_mode_wakes_the_redis_workers_and_checks_redis(tmp_path, redis_url, clock):
    """`serve` with STRIDELINE_REDIS_URL: no in-process worker; ingest's wake-up goes to Redis;
    readiness pings Redis."""
    from litestar.testing import TestClient

    from engine.commands.serve import build_app
    from workers.wakeup import BackgroundWaker

    app = build_app(store=str(tmp_path / "events.sqlite3"), keys=str(tmp_path / "keys.sqlite3"),
                    redis_url=redis_url)
    waker = app.state.runtime.ingestor.wake
    assert isinstance(waker, BackgroundWaker)
    key = app.state.api_keys.create("t", ["ingest"]).key
    with TestClient(app) as c:
        assert c.get("/ready").json() == {"status": "ready", "checks": {"store": "ok", "redis": "ok"}}
        r = c.post(f"/v1/athletes/ath-redis-{uuid.uuid4().hex[:8]}/events",
                   json={"events": [enrolment(dt.datetime.now(dt.timezone.utc))]},
                   headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 201
        assert waker.flush() and app.state.pipeline is None and waker.lost == 0


def test_ready_lists_an_unreachable_redis_as_degraded_and_stays_ready(runtime, keys):
    """A configured Redis that does not answer is listed as degraded; the API stays ready (200),
    since appends do not need Redis."""
    from litestar.testing import TestClient

    from engine.api import create_app

    app = create_app(runtime, start_workers=False, keys=keys, redis_url="redis://127.0.0.1:1/0")
    with TestClient(app) as c:
        r = c.get("/ready")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    assert r.json()["checks"]["redis"].startswith("degraded: ")
    assert r.json()["checks"]["store"] == "ok"
