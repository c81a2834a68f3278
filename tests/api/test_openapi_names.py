"""The OpenAPI document names operations as a developer would (a generated client gets
`append_events(...)`, not `v1_athletes_athlete_id_events_append_events(...)`)."""

from __future__ import annotations

import re


def test_every_operation_id_is_a_short_unique_snake_case_name(client):
    """Given the served document, then each operation id is the handler's name: unique, snake_case,
    with no path segments in it."""
    doc = client.get("/schema/openapi.json").json()
    ids = {(method, path): op["operationId"] for path, item in doc["paths"].items()
           for method, op in item.items() if isinstance(op, dict) and "responses" in op}
    assert ids[("post", "/v1/athletes/{athlete_id}/events")] == "append_events"
    assert ids[("get", "/v1/athletes/{athlete_id}/view")] == "get_view"
    assert ids[("get", "/v1/athletes/{athlete_id}/series")] == "get_series"
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", name) and "v1" not in name for name in ids.values())
