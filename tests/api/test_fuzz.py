"""Fuzzing: schemathesis against the OpenAPI document, and hypothesis-generated event batches
(valid, corrupted, retried, racing) against the live app. Invariants: no 5xx ever; every answer is
documented and matches its schema; no partial writes (the store holds exactly the events of the
requests that got a 2xx). The figures are printed at the end (``-s`` shows them; CI logs them).
"""

from __future__ import annotations

import collections
import os
import datetime as dt
import json
import uuid
from urllib.parse import parse_qsl, urlsplit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from engine.api import create_app
from engine.clock import ManualClock
from engine.keys import KeyStore
from engine.ingest import MAX_BEFORE_ENROLMENT
from engine.runtime import build_runtime
from engine.store import SQLiteEventStore
from events.envelope import is_recommendation_stream
from events.vocabulary import EVENT_TYPES

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)
SCALE = float(os.environ.get("STRIDELINE_FUZZ_SCALE", "1"))
"""Multiplies every example budget below: 1 keeps CI near a minute and a half; raise it locally."""
SCHEMATHESIS_EXAMPLES = int(100 * SCALE)
"""Per operation and generation mode; the event append gets three times as many."""
PAYLOAD_EXAMPLES = int(1500 * SCALE)
DERANDOMIZE = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
"""CI replays the same inputs every run (reproducible); locally every run explores new ones."""


@dataclass
class Figures:
    requests: int = 0
    by_status: collections.Counter = field(default_factory=collections.Counter)

    def record(self, status: int) -> None:
        self.requests += 1
        self.by_status[status] += 1

    def count(self, low: int, high: int) -> int:
        return sum(n for s, n in self.by_status.items() if low <= s < high)


FIGURES: dict[str, Figures] = collections.defaultdict(Figures)


@dataclass
class Target:
    """An app around a fresh store, and what its 2xx answers said was stored."""

    app: Any
    store: SQLiteEventStore
    headers: dict[str, str]
    accepted: set[tuple[str, int, str]] = field(default_factory=set)

    def note(self, athlete: str, status: int, body: Any) -> None:
        if 200 <= status < 300 and isinstance(body, dict) and "events" in body:
            for e in body["events"]:
                self.accepted.add((athlete, e["version"], e["event_id"]))

    def stored(self) -> set[tuple[str, int, str]]:
        return {(e.stream, e.version, str(e.event_id)) for e in self.store.iter_all()
                if not is_recommendation_stream(e.stream)}


def make_target(tmp: Path, *, start_workers: bool, max_wait: float) -> Target:
    clock = ManualClock(T0)
    store = SQLiteEventStore(tmp / "fuzz.sqlite3", clock=clock, synchronous="OFF")
    keys = KeyStore(tmp / "keys.sqlite3", clock=clock)
    app = create_app(build_runtime(store=store, clock=clock), start_workers=start_workers, keys=keys,
                     max_wait=max_wait, rate_limit_per=("minute", 10**9))  # fuzz inputs, not the limit
    return Target(app, store, {"Authorization": f"Bearer {keys.create('fuzz', ['admin']).key}"})


# -- schemathesis: everything the document allows, and what it does not -------------------------


@pytest.fixture(scope="module")
def sch_target(tmp_path_factory) -> Target:
    return make_target(tmp_path_factory.mktemp("schemathesis"), start_workers=False, max_wait=0.02)


@pytest.fixture(scope="module")
def openapi(sch_target):
    return schemathesis.openapi.from_asgi("/schema/openapi.json", sch_target.app)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
OPERATIONS = [
    ("POST", "/v1/athletes/{athlete_id}/events"),
    ("GET", "/v1/athletes/{athlete_id}/events"),
    ("GET", "/v1/athletes/{athlete_id}/view"),
    ("GET", "/v1/athletes/{athlete_id}/advice"),
    ("GET", "/v1/athletes/{athlete_id}/recommendations"),
    ("GET", "/v1/athletes/{athlete_id}/series"),
    ("GET", "/v1/admin/keys"),
    ("POST", "/v1/admin/keys"),
    ("DELETE", "/v1/admin/keys/{key_id}"),
    ("GET", "/v1/athletes"),
    ("GET", "/v1/athletes/{athlete_id}/audit"),
    ("DELETE", "/v1/athletes/{athlete_id}"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/v1/stream"),
]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
NO_INPUTS = {("GET", "/v1/admin/keys"), ("GET", "/health"), ("GET", "/ready")}
"""Operations without parameters or body: nothing to make invalid, so no negative mode."""
ERASES = ("DELETE", "/v1/athletes/{athlete_id}")
"""Erasure is not fuzzed: it would remove accepted events from what the fuzz checks are stored
(tests/api/test_erasure.py and the tenancy matrix cover it)."""
STREAMS = ("GET", "/v1/stream")
"""Server-Sent Events stay open until the client leaves, which a generated case never does
(tests/api/test_stream.py covers it, its scope and its bad ``Last-Event-ID``)."""
CASES = [pytest.param(m, p, mode, id=f"{m} {p} {mode.value}") for m, p in OPERATIONS for mode in MODES
         if not (mode is GenerationMode.NEGATIVE and (m, p) in NO_INPUTS) and (m, p) not in (ERASES, STREAMS)]


def test_the_fuzzed_operations_are_every_documented_one(openapi):
    """The list below covers the whole document."""
    documented = {(op.ok().method.upper(), op.ok().path) for op in openapi.get_all_operations()}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(openapi, sch_target, method, path, mode):
    """Generated requests (valid and invalid by the document) get documented, schema-true answers."""
    operation = openapi[path][method]
    examples = SCHEMATHESIS_EXAMPLES * (3 if method == "POST" and "athletes" in path else 1)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=DERANDOMIZE,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case) -> None:
        response = case.call(headers=sch_target.headers)
        FIGURES["schemathesis"].record(response.status_code)
        if method == "POST" and "athletes" in path:
            sch_target.note(str(case.path_parameters.get("athlete_id")), response.status_code, _json(response))
        case.validate_response(response, checks=CHECKS[:-1])
        if not (200 <= response.status_code < 300 and _sent_query_is_valid(operation, response)):
            case.validate_response(response, checks=[negative_data_rejection])

    call()


def _sent_query_is_valid(operation, response) -> bool:
    """Whether the query string as sent satisfies the document, with each value read as the type its
    parameter declares. A negative case can serialise to a valid request (a one-element array of a
    boolean is `?flag=false`; a mutated Authorization header is replaced by the real key), and a
    server must not refuse a valid request: only then is an accepted "negative" case not a finding.
    Bodies are not concerned (only GETs and DELETEs carry no body)."""
    if operation.body:
        return False
    sent = parse_qsl(urlsplit(response.request.url).query, keep_blank_values=True)
    names = [name for name, _ in sent]
    if len(names) != len(set(names)):
        return False
    schema = operation.query.validation_schema
    properties = schema.get("properties", {})
    query = {name: _as_declared(properties.get(name, {}), value) for name, value in sent}
    return jsonschema.Draft202012Validator(schema).is_valid(query)


def _as_declared(schema: dict, value: str) -> Any:
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    types = {t for option in options for t in ([option.get("type")] if isinstance(option.get("type"), str)
                                               else option.get("type") or [])}
    if "null" in types and value == "null":  # how schemathesis (and Litestar) spell None in a query
        return None
    if "boolean" in types and value in ("true", "false"):
        return value == "true"
    if types & {"integer", "number"}:
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if "integer" in types and number.is_integer() and "." not in value else number
    return value


def test_schemathesis_left_no_partial_write(sch_target):
    """Every stored event was acknowledged by a 2xx; every acknowledged event is stored."""
    assert sch_target.stored() == sch_target.accepted


def _json(response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# -- hypothesis: event batches built from the vocabulary, then corrupted ------------------------

ZONES = ["UTC", "Europe/London", "Europe/Madrid", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
short_text = st.from_regex(r"[A-Za-z0-9_.\- ]{1,80}", fullmatch=True)
note = st.text(max_size=200)
score = st.integers(0, 10)
finite = dict(allow_nan=False, allow_infinity=False)


@st.composite
def enrolled(draw) -> dict[str, Any]:
    longest = draw(st.floats(0.5, 250, **finite))
    weekly = draw(st.one_of(st.just(0.0), st.floats(longest, 400, **finite)))
    return {"type": "athlete.enrolled", "body_mass_kg": draw(st.floats(20.5, 300, **finite)),
            "time_zone": draw(st.sampled_from(ZONES)), "pre_injury_weekly_km": weekly,
            "pre_injury_longest_run_km": longest}


@st.composite
def injury(draw) -> dict[str, Any]:
    kind = draw(st.sampled_from(["tendinopathy", "bone_stress", "muscle_strain", "plantar_fascia",
                                 "patellofemoral", "iliotibial_band", "joint", "other"]))
    data = {"type": "injury.reported", "injury_type": kind,
            "onset_date": draw(st.dates(dt.date(2025, 1, 1), dt.date(2026, 3, 1))).isoformat(),
            "site": draw(short_text), "previous_running_injuries": draw(st.integers(0, 50))}
    if kind == "bone_stress":
        data["bone_site"] = draw(st.sampled_from(["navicular", "fibula", "posteromedial_tibia", "pelvis"]))
    return data


@st.composite
def run(draw) -> dict[str, Any]:
    pace = draw(st.floats(2.6, 29.5, **finite))
    distance = draw(st.floats(0.2, min(250, 1790 / pace), **finite))
    kind = draw(st.sampled_from(["easy", "long", "tempo", "interval", "race", "walk_run", "walk"]))
    data = {"type": "run.logged", "distance_km": distance, "duration_min": distance * pace,
            "rpe": draw(st.floats(0, 10, **finite)), "kind": kind}
    if kind == "walk_run":
        data["walk_run_level"] = draw(st.integers(1, 12))
    return data


def measurement() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("pain.reported"), "score": score,
                               "context": st.sampled_from(["rest", "during", "after", "next_morning"])},
                              optional={"site": short_text, "bony_tenderness": st.booleans(), "note": note}),
        st.fixed_dictionaries({"type": st.just("lift.logged"),
                               "exercise": st.from_regex(r"[a-z0-9_]{1,64}", fullmatch=True),
                               "load_kg": st.floats(0, 1000, **finite), "reps": st.integers(1, 100),
                               "sets": st.integers(1, 20), "rpe": st.floats(0, 10, **finite)},
                              optional={"side": st.sampled_from(["left", "right", "both"])}),
        st.fixed_dictionaries({"type": st.just("plyometric.logged"),
                               "drill": st.sampled_from(["pogo", "box_jump", "single_leg_hop", "bounding"]),
                               "foot_contacts": st.integers(1, 1000), "pain": score}),
        run(),
        st.fixed_dictionaries({"type": st.just("sleep.logged"), "hours": st.floats(0, 24, **finite)},
                              optional={"quality": st.integers(1, 5)}),
        st.fixed_dictionaries({"type": st.just("fuelling.logged"), "under_fuelled": st.booleans()},
                              optional={"energy_kcal": st.floats(0, 15000, **finite)}),
        st.fixed_dictionaries({"type": st.just("readiness_test.recorded"),
                               "test": st.sampled_from(["brisk_walk_30min", "single_leg_squat_10",
                                                        "single_leg_hops", "jog_on_spot_1min"]),
                               "passed": st.booleans(), "pain": score}),
    )


def profile_update() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"type": st.just("athlete.profile_updated"),
                                  "time_zone": st.sampled_from(ZONES)},
                                 optional={"body_mass_kg": st.floats(20.5, 300, **finite),
                                           "pre_injury_weekly_km": st.floats(250, 400, **finite),
                                           "pre_injury_longest_run_km": st.floats(0.5, 250, **finite)})


def other_event() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        measurement(), measurement(), injury(), profile_update(),
        st.fixed_dictionaries({"type": st.just("assessment.recorded"), "contributors": st.lists(
            st.sampled_from(["training_load_error", "strength_deficit", "poor_sleep"]), unique=True)},
            optional={"note": note}),
        st.fixed_dictionaries({"type": st.just("clearance.recorded"),
                               "scope": st.sampled_from(["running", "plyometrics", "full"]),
                               "clinician": short_text}),
    )


CORRUPTIONS = ["out_of_range", "wrong_type", "unknown_field", "missing_field", "unknown_type",
               "naive_time", "future_time", "engine_event", "not_an_object"]


def corrupt(draw, event: dict[str, Any]) -> dict[str, Any]:
    """One thing wrong with one event; returns the broken copy."""
    how = draw(st.sampled_from(CORRUPTIONS))
    event = json.loads(json.dumps(event))
    data = event["data"]
    numeric = [k for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if how == "out_of_range" and numeric:
        data[draw(st.sampled_from(numeric))] = draw(st.sampled_from([-1, 1e9, 10**20]))
    elif how == "wrong_type":
        name = draw(st.sampled_from(sorted(set(data) - {"type"}) or ["type"]))
        data[name] = 123 if isinstance(data[name], str) else "x"
    elif how == "unknown_field":
        data[draw(st.from_regex(r"zz[a-z]{1,8}", fullmatch=True))] = 1
    elif how == "missing_field" and _required(data):
        del data[draw(st.sampled_from(_required(data)))]
    elif how == "unknown_type":
        data["type"] = draw(st.sampled_from(["mood.logged", "", "RUN.LOGGED", "pain.logged.v2"]))
    elif how == "naive_time":
        event["occurred_at"] = "2026-03-01T10:00:00"
    elif how == "future_time":
        event["occurred_at"] = (T0 + dt.timedelta(days=draw(st.integers(1, 5000)))).isoformat()
    elif how == "engine_event":
        event["data"] = {"type": "recommendation.issued", "recommendation_id": str(uuid.uuid4()),
                         "athlete_id": "x", "kind": "hold", "topic": "t", "rule_id": "r",
                         "explanation": "e", "policy_name": "p", "policy_version": "1",
                         "decision_time": T0.isoformat(), "trigger_position": 1}
    else:  # not_an_object (and the fallbacks above when a corruption does not apply)
        event["data"] = draw(st.sampled_from([None, 3, "pain", []]))
    return event


def _required(data: dict[str, Any]) -> list[str]:
    cls = EVENT_TYPES[data["type"]]
    return sorted(f.name for f in msgspec.structs.fields(cls)
                  if f.default is msgspec.NODEFAULT and f.default_factory is msgspec.NODEFAULT)


@dataclass(frozen=True)
class Plan:
    """Everything one request may need, drawn up front: what is used depends on the model's state,
    what is drawn does not (Hypothesis replays draws, so they must not depend on the server)."""

    athlete: int
    enrolment: dict[str, Any]
    events: list[dict[str, Any]]
    corrupt: bool
    broken_index: int
    broken_event: dict[str, Any]
    retry: bool
    retry_pick: int
    stale: bool
    stale_pick: int
    expect_head: bool


@st.composite
def request_plan(draw) -> Plan:
    when = st.datetimes((T0 - MAX_BEFORE_ENROLMENT).replace(tzinfo=None), dt.datetime(2026, 3, 2, 8),  # ingest's window
                        timezones=st.just(dt.timezone.utc))
    events = [{"occurred_at": draw(when).isoformat(), "event_id": str(uuid.uuid4()), "data": draw(other_event())}
              for _ in range(draw(st.integers(1, 6)))]
    for event in events:  # a profile changes from the enrolment on, never before it
        if event["data"]["type"] == "athlete.profile_updated":
            event["occurred_at"] = T0.isoformat()
    broken_index = draw(st.integers(0, len(events) - 1))
    return Plan(
        athlete=draw(st.integers(0, 11)),
        enrolment={"occurred_at": T0.isoformat(), "event_id": str(uuid.uuid4()), "data": draw(enrolled())},
        events=events, corrupt=draw(st.sampled_from([True, False, False])), broken_index=broken_index,
        broken_event=corrupt(draw, events[broken_index]),
        retry=draw(st.sampled_from([True] + [False] * 9)), retry_pick=draw(st.integers(0, 10**6)),
        stale=draw(st.sampled_from([True] + [False] * 7)), stale_pick=draw(st.integers(0, 10**6)),
        expect_head=draw(st.booleans()))


@dataclass
class Model:
    heads: dict[str, int] = field(default_factory=dict)
    sent_ok: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)


def test_hypothesis_batches_are_all_or_nothing_and_never_5xx(tmp_path):
    """Valid batches are stored (201), retries deduplicate (200), stale versions 409, any corruption
    422 at the corrupted event's path, and the store holds exactly what was acknowledged."""
    target = make_target(tmp_path, start_workers=True, max_wait=0.05)
    model = Model()
    figures = FIGURES["hypothesis"]
    with TestClient(target.app, timeout=60) as client:

        def post(athlete: str, body: Any) -> tuple[int, Any]:
            r = client.post(f"/v1/athletes/{athlete}/events", json=body, headers=target.headers)
            figures.record(r.status_code)
            assert r.status_code < 500, r.text
            target.note(athlete, r.status_code, r.json())
            return r.status_code, r.json()

        @settings(max_examples=PAYLOAD_EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(plan=request_plan())
        def one_request(plan: Plan) -> None:
            if plan.retry and model.sent_ok:
                who, body, answer = model.sent_ok[plan.retry_pick % len(model.sent_ok)]
                status, again = post(who, body)
                assert status == 200 and again["deduplicated"] is True
                assert [dict(e, status="stored") for e in again["events"]] == answer["events"]
                return
            athlete = f"ath-{plan.athlete}"
            head = model.heads.get(athlete, 0)
            events = list(plan.events)
            broken = plan.broken_index if plan.corrupt else None
            if broken is not None:
                events[broken] = plan.broken_event
            if head == 0:  # a new athlete's first batch starts with the enrolment
                events.insert(0, plan.enrolment)
                broken = None if broken is None else broken + 1
            body: dict[str, Any] = {"events": events}
            stale = plan.stale and head > 0
            if stale:
                body["expected_version"] = plan.stale_pick % head
            elif plan.expect_head:
                body["expected_version"] = head
            status, answer = post(athlete, body)
            if broken is not None:
                assert status == 422, (status, answer)
                [error] = answer["errors"]
                assert error["path"].startswith(f"$.events[{broken}]"), (error, events[broken])
            elif stale:
                assert status == 409 and answer["actual_version"] == head
            else:
                assert status == 201, answer
                assert [e["version"] for e in answer["events"]] == list(range(head + 1, head + 1 + len(events)))
                model.heads[athlete] = answer["version"]
                model.sent_ok.append((athlete, body, answer))

        one_request()
        target.app.state.pipeline.drain()
        for athlete in model.heads:
            for endpoint in ("view", "recommendations", "events"):
                r = client.get(f"/v1/athletes/{athlete}/{endpoint}", headers=target.headers)
                figures.record(r.status_code)
                assert r.status_code == 200, r.text
            assert r.json()["version"] == model.heads[athlete]
    assert target.stored() == target.accepted
    assert len(target.accepted) == sum(model.heads.values())


def test_fuzzing_figures(capsys):
    """The figures: requests sent, 4xx and 5xx, per fuzzer (printed for CI logs and docs/api.md)."""
    total = Figures()
    lines = []
    for name, f in sorted(FIGURES.items()):
        for status, n in f.by_status.items():
            total.by_status[status] += n
        total.requests += f.requests
        lines.append(f"  {name:<13} requests={f.requests:>6} 2xx={f.count(200, 300):>6} "
                     f"4xx={f.count(400, 500):>6} 5xx={f.count(500, 600)}  "
                     f"statuses={dict(sorted(f.by_status.items()))}")
    with capsys.disabled():
        print("\nAPI fuzzing figures:")
        print("\n".join(lines))
        print(f"  {'total':<13} requests={total.requests:>6} 2xx={total.count(200, 300):>6} "
              f"4xx={total.count(400, 500):>6} 5xx={total.count(500, 600)}")
    assert total.count(500, 600) == 0
