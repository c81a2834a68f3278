"""GET /v1/stream: Server-Sent Events of the advice issued and withdrawn for every athlete a key may
see, each with the store's global position as ``id``, resumable with ``Last-Event-ID``."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import httpx
from api_support import enrolment, injury, pain
from test_docs_curls import live_api  # noqa: F401  (the running `strideline serve` fixture)

from engine.pipeline import append_recommendations
from events.vocabulary import RecommendationIssued


def enrol(client, headers, athlete: str, when: dt.datetime) -> None:
    r = client.post(f"/v1/athletes/{athlete}/events", headers=headers,
                    json={"events": [enrolment(when, time_zone="Asia/Tokyo")]})
    assert r.status_code == 201, r.text


def advise(store, athlete: str, n: int, when: dt.datetime) -> None:
    append_recommendations(store, athlete, [RecommendationIssued(
        recommendation_id=uuid.uuid4(), athlete_id=athlete, kind="hold", topic=f"topic_{i}",
        rule_id=f"test.rule_{i}", explanation="a test recommendation", policy_name="test",
        policy_version="1", decision_time=when, trigger_position=i + 1) for i in range(n)])


def sse_events(body: str) -> list[dict]:
    """The events of an SSE body (comments and the ``retry`` hint left out)."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if "data" in fields:
            events.append({"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])})
    return events


def read_stream(client, headers, limit: int, last_event_id: int | None = None) -> list[dict]:
    extra = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    r = client.get("/v1/stream", params={"limit": limit}, headers={**headers, **extra})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    return sse_events(r.text)


def test_a_backend_reads_a_few_events_then_resumes_after_the_last_one(client, admin, key_for, keys, clock, api_store):
    """Given advice for two athletes of the key's organisation and one of another, when a backend
    reads three events and reconnects with ``Last-Event-ID`` set to the last id, then it gets the
    rest in global order, each once, and never the other organisation's."""
    keys.orgs.create("rival", "Rival Clinic")
    evening = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.timezone.utc)
    for athlete in ("ath-a", "ath-b"):
        enrol(client, admin, athlete, clock.now())
    enrol(client, key_for("admin", org="rival"), "ath-rival", clock.now())
    advise(api_store, "ath-a", 3, evening)
    advise(api_store, "ath-rival", 2, evening)
    advise(api_store, "ath-b", 2, evening)
    reader = key_for("read")

    first = read_stream(client, reader, limit=3)
    rest = read_stream(client, reader, limit=2, last_event_id=first[-1]["id"])

    assert [e["data"]["recommendation"]["athlete_id"] for e in first] == ["ath-a"] * 3
    assert [e["data"]["recommendation"]["athlete_id"] for e in rest] == ["ath-b"] * 2
    ids = [e["id"] for e in first + rest]
    assert ids == sorted(set(ids)) and ids[0] > 3  # global positions, after the three enrolments
    assert {e["event"] for e in first + rest} == {"recommendation.issued"}
    assert first[0]["data"]["local_date"] == "2026-03-02" and first[0]["data"]["time_zone"] == "Asia/Tokyo"


def test_a_key_bound_to_a_caseload_streams_only_its_athletes(client, admin, key_for, clock, api_store):
    """Given advice for two athletes, when a key bound to one of them streams, then it sees only that
    athlete's advice."""
    for athlete in ("ath-a", "ath-b"):
        enrol(client, admin, athlete, clock.now())
        advise(api_store, athlete, 2, clock.now())
    events = read_stream(client, key_for("read", caseload=["ath-b"]), limit=2)
    assert [e["data"]["recommendation"]["athlete_id"] for e in events] == ["ath-b", "ath-b"]


def test_the_stream_needs_the_read_scope_and_a_valid_last_event_id(client, key_for):
    """Given an ingest-only key, then 403; given a Last-Event-ID that is not a position, then 400
    naming the header."""
    assert client.get("/v1/stream", headers=key_for("ingest")).status_code == 403
    r = client.get("/v1/stream", headers={**key_for("read"), "Last-Event-ID": "yesterday"})
    assert r.status_code == 400
    [error] = r.json()["errors"]
    assert error["location"] == "header" and error["path"] == "last_event_id"


def test_a_live_server_pushes_advice_issued_after_the_client_connected(live_api):
    """Given a running ``strideline serve`` and a client holding the stream open, when an athlete's
    amber pain is appended, then the advice the pipeline issues arrives on the open stream (with a
    deadline, no sleeps)."""
    now = dt.datetime.now(dt.timezone.utc)
    auth = {"Authorization": f"Bearer {live_api['KEY']}"}
    events = [enrolment(now - dt.timedelta(days=2)), injury(now - dt.timedelta(days=1)), pain(now, score=5)]
    with httpx.Client(base_url=live_api["API"], headers=auth, timeout=30) as http, \
            http.stream("GET", "/v1/stream") as stream:
        assert stream.status_code == 200
        assert http.post("/v1/athletes/ath-live/events", json={"events": events}).status_code == 201
        received, deadline = [], time.monotonic() + 60  # heartbeats come every 15 s: the loop sees the clock
        for line in stream.iter_lines():
            assert time.monotonic() < deadline, "no advice arrived on the stream within 60 s"
            if line.startswith("data: "):
                received.append(json.loads(line[len("data: "):]))
                break
    assert received[0]["recommendation"]["athlete_id"] == "ath-live"
