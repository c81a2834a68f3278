"""A client that knows only the OpenAPI document: it finds the operations, the security scheme and
the event shapes in the document, checks every request it builds and every answer it gets against
the documented schemas, and enrols an athlete, logs a week, and reads back phase and recommendations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import jsonschema_rs
import pytest


class DocumentedClient:
    """HTTP through the document: operations by (method, path), bodies and answers validated."""

    def __init__(self, http, doc: dict[str, Any]) -> None:
        self.http, self.doc = http, doc
        self.headers: dict[str, str] = {}

    def schema(self, ref_or_schema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
        return jsonschema_rs.Draft202012Validator({**ref_or_schema, "components": self.doc["components"]},
                                                  validate_formats=True)

    def operation(self, method: str, path: str) -> dict[str, Any]:
        return self.doc["paths"][path][method.lower()]

    def authenticate(self, key: str) -> None:
        """Use the first documented security scheme the client understands."""
        schemes = self.doc["components"]["securitySchemes"]
        http_bearer = [n for n, s in schemes.items() if s["type"] == "http" and s["scheme"] == "bearer"]
        assert http_bearer, "the document names no bearer scheme"
        self.headers = {"Authorization": f"Bearer {key}"}

    def call(self, method: str, path: str, params: dict[str, str], body: Any = None,
             query: dict[str, Any] | None = None) -> tuple[int, Any]:
        op = self.operation(method, path)
        documented = {p["name"] for p in op.get("parameters", [])}
        assert set(params) | set(query or {}) <= documented, f"undocumented parameter for {method} {path}"
        if body is not None:
            body_schema = op["requestBody"]["content"]["application/json"]["schema"]
            errors = [e.message for e in self.schema(body_schema).iter_errors(body)]
            assert not errors, f"the request breaks the documented schema: {errors[:3]}"
        url = path.format(**params)
        response = self.http.request(method, url, json=body, params=query, headers=self.headers)
        documented_status = op["responses"].get(str(response.status_code))
        assert documented_status is not None, f"{response.status_code} is not documented for {method} {path}"
        payload = response.json()
        answer_schema = documented_status["content"]["application/json"]["schema"]
        errors = [e.message for e in self.schema(answer_schema).iter_errors(payload)]
        assert not errors, f"the answer breaks the documented schema: {errors[:3]}"
        return response.status_code, payload


def event_types(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Event type tag -> its schema, read from the NewEvent ``data`` union in the document."""
    schemas = doc["components"]["schemas"]
    append = schemas["AppendRequest"]["properties"]["events"]["items"]["$ref"].rsplit("/", 1)[-1]
    union = schemas[append]["properties"]["data"]["oneOf"]
    out = {}
    for ref in union:
        schema = schemas[ref["$ref"].rsplit("/", 1)[-1]]
        out[schema["properties"]["type"]["const"]] = schema
    return out


@pytest.fixture
def documented(live_client, keys) -> DocumentedClient:
    doc = live_client.get("/schema/openapi.json").json()
    c = DocumentedClient(live_client, doc)
    c.authenticate(keys.create("documented-client", ["ingest", "read"]).key)
    return c


EVENTS = "/v1/athletes/{athlete_id}/events"


def test_a_client_following_only_the_openapi_document_can_run_a_week(documented, clock):
    """Enrol, log seven days (expected_version from each answer), read the phase and recommendations."""
    types = event_types(documented.doc)
    assert {"athlete.enrolled", "injury.reported", "pain.reported", "lift.logged"} <= set(types)
    assert "recommendation.issued" not in types, "clients cannot send the engine's own events"
    athlete = {"athlete_id": "doc-client-1"}

    def event(kind: str, when: dt.datetime, **fields: Any) -> dict[str, Any]:
        required = set(types[kind]["required"]) - {"type"}
        assert required <= set(fields), f"{kind} also requires {required - set(fields)}"
        return {"event_id": str(uuid.uuid4()), "occurred_at": when.isoformat(), "data": {"type": kind, **fields}}

    t = clock.now()
    status, appended = documented.call("POST", EVENTS, athlete, {"expected_version": 0, "events": [
        event("athlete.enrolled", t, body_mass_kg=64, time_zone="Europe/Madrid", pre_injury_weekly_km=35,
              pre_injury_longest_run_km=14),
        event("injury.reported", t, injury_type="tendinopathy", onset_date=(t.date() - dt.timedelta(days=12)).isoformat()),
    ]})
    assert status == 201
    version = appended["version"]
    for day in range(1, 8):
        clock.advance(dt.timedelta(days=1))
        t = clock.now()
        status, appended = documented.call("POST", EVENTS, athlete, {"expected_version": version, "events": [
            event("pain.reported", t, score=max(0, 6 - day), context="rest"),
            event("lift.logged", t, exercise="squat", load_kg=30 + 2 * day, reps=10, sets=3, rpe=7),
            event("sleep.logged", t, hours=7.5),
        ]})
        assert status == 201
        version = appended["version"]
    assert version == 2 + 7 * 3

    status, page = documented.call("GET", EVENTS, athlete, query={"from_version": 1, "limit": 5})
    assert status == 200 and page["version"] == version and page["next_from_version"] == 6

    status, view = documented.call("GET", "/v1/athletes/{athlete_id}/view", athlete,
                                   query={"min_version": version, "wait": 30})
    assert status == 200 and view["version"] == version
    assert view["phase"]["phase"] in {"settle", "strength"}
    assert view["capacity"]["best_e1rm_kg"]["squat"] > 0

    status, recs = documented.call("GET", "/v1/athletes/{athlete_id}/recommendations", athlete,
                                   query={"after": 0, "wait": 30})
    assert status == 200 and recs["recommendations"]
    first = recs["recommendations"][0]["recommendation"]
    assert first["athlete_id"] == "doc-client-1" and first["explanation"]

    status, error = documented.call("POST", EVENTS, athlete, {"expected_version": 0, "events": [
        event("pain.reported", t, score=3, context="rest")]})
    assert status == 409 and error["actual_version"] == version


def test_the_document_describes_the_event_vocabulary_strictly(client):
    """Tagged union with a discriminator; unknown fields refused; every 4xx body is ErrorBody."""
    doc = client.get("/schema/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    schemas = doc["components"]["schemas"]
    data = schemas["NewEvent"]["properties"]["data"]
    assert data["discriminator"]["propertyName"] == "type"
    assert data["discriminator"]["mapping"]["pain.reported"] == "#/components/schemas/PainReported"
    assert schemas["PainReported"]["additionalProperties"] is False
    assert schemas["PainReported"]["properties"]["score"] == {
        "type": "integer", "maximum": 10, "minimum": 0, "description": "0-10 scale"}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorBody", (method, path, status)
