"""Regenerate engine/api/examples.json: one example per request and response body of the OpenAPI
document, captured from a real journey against the app (so every example is an answer the API gave).

    .venv/bin/python scripts/openapi_examples.py

Lists are cut to two items; key secrets and ids are replaced by stable placeholders. The API test
``tests/api/test_openapi_examples.py`` checks every body has an example that its schema accepts.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from engine.api import create_app
from engine.clock import ManualClock
from engine.keys import KeyStore
from engine.runtime import build_runtime
from engine.store import SQLiteEventStore

OUT = Path(__file__).resolve().parents[1] / "engine" / "api" / "examples.json"
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)
ATHLETE = "ath-0001"


def _event(type_: str, when: dt.datetime, n: int, **fields: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"example/{n}")), "occurred_at": when.isoformat(),
            "data": {"type": type_, **fields}}


def _first_batch(t: dt.datetime) -> list[dict[str, Any]]:
    return [
        _event("athlete.enrolled", t, 1, body_mass_kg=68, time_zone="Europe/London", pre_injury_weekly_km=40,
               pre_injury_longest_run_km=16),
        _event("injury.reported", t, 2, injury_type="tendinopathy", site="left achilles",
               onset_date=(t.date() - dt.timedelta(days=10)).isoformat()),
        _event("pain.reported", t, 3, score=2, context="rest"),
    ]


def _diary(t: dt.datetime, day: int) -> list[dict[str, Any]]:
    return [_event("pain.reported", t, 100 + 4 * day, score=7 if day == 3 else 2, context="rest"),  # a red day
            _event("lift.logged", t, 101 + 4 * day, exercise="squat", load_kg=40 + 2.5 * day, reps=8, sets=3, rpe=7),
            _event("sleep.logged", t, 102 + 4 * day, hours=7.5, quality=4),
            _event("run.logged", t, 103 + 4 * day, distance_km=3, duration_min=20, rpe=3, kind="walk_run",
                   walk_run_level=2)]


def _cut(value: Any) -> Any:
    if isinstance(value, list):
        return [_cut(v) for v in value[:2]]
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    return value


def capture() -> dict[str, Any]:
    requests: dict[str, Any] = {}
    responses: dict[str, dict[str, Any]] = {}

    def keep(op: str, status: int, body: Any) -> Any:
        responses.setdefault(op, {})[str(status)] = _cut(body)
        return body

    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(T0)
        store = SQLiteEventStore(Path(tmp) / "examples.sqlite3", clock=clock)
        keys = KeyStore(store, clock=clock, default_org="acme")
        keys.orgs.create("acme", "Acme Physio")
        admin = {"Authorization": f"Bearer {keys.create('backend', ['admin', 'ingest', 'read']).key}"}
        app = create_app(build_runtime(store=store, clock=clock), start_workers=True, keys=keys)
        with TestClient(app, timeout=40) as c:
            keep("health", 200, c.get("/health").json())
            keep("ready", 200, c.get("/ready").json())
            keep("ready", 503, {"status": "unavailable", "checks": {"store": "error: OperationalError"}})  # as written by ready()
            url = f"/v1/athletes/{ATHLETE}"
            first = {"expected_version": 0, "events": _first_batch(T0)}
            requests["append_events"] = first
            keep("append_events", 201, c.post(f"{url}/events", json=first, headers=admin).json())
            keep("append_events", 200, c.post(f"{url}/events", json=first, headers=admin).json())
            for day in range(1, 6):
                clock.set(T0 + dt.timedelta(days=day))
                appended = c.post(f"{url}/events", json={"events": _diary(clock.now(), day)}, headers=admin).json()
            wait = {"min_version": appended["version"], "wait": 30}
            keep("get_view", 200, c.get(f"{url}/view", params=wait, headers=admin).json())
            keep("get_advice", 200, c.get(f"{url}/advice", headers=admin).json())
            keep("list_events", 200, c.get(f"{url}/events", params={"limit": 2}, headers=admin).json())
            keep("list_recommendations", 200,
                 c.get(f"{url}/recommendations", params={"limit": 2, "wait": 30}, headers=admin).json())
            keep("get_series", 200, c.get(f"{url}/series", params={"from": "2026-03-05", "to": "2026-03-06"},
                                          headers=admin).json())
            keep("list_athletes", 200, c.get("/v1/athletes", headers=admin).json())
            keep("athlete_audit", 200, c.get(f"{url}/audit", headers=admin).json())
            new_key = {"name": "coach-app", "scopes": ["read"], "caseload": [ATHLETE]}
            requests["create_key"] = new_key
            created = keep("create_key", 201, c.post("/v1/admin/keys", json=new_key, headers=admin).json())
            keep("list_keys", 200, c.get("/v1/admin/keys", headers=admin).json())
            keep("revoke_key", 200, c.delete(f"/v1/admin/keys/{created['record']['id']}", headers=admin).json())
            entry = c.get(f"{url}/recommendations", params={"limit": 1}, headers=admin).json()["recommendations"][0]
            position = c.get(f"{url}/events", params={"limit": 1}, headers=admin).json()["events"][0]["position"]
            responses["stream_recommendations"] = {"200": (  # the test client cannot hold a stream open
                f"id: {position + 40}\nevent: {entry['recommendation']['type']}\n"
                f"data: {json.dumps(entry, separators=(',', ':'))}\n\n: heartbeat\n\n")}
            leaving = {**_first_batch(clock.now())[0], "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "example/leaver"))}
            c.post("/v1/athletes/ath-0002/events", json={"events": [leaving]}, headers=admin)
            keep("erase", 200, c.delete("/v1/athletes/ath-0002", headers=admin).json())
        store.close()
    return {"requests": requests, "responses": responses}


def _placeholders(text: str) -> str:
    """Stable output: key secrets and ids, and the key's own hash, become fixed placeholders."""
    text = re.sub(r"sl_([0-9a-f]{12})_[A-Za-z0-9_\-]{43}", "sl_0123456789ab_" + "x" * 43, text)
    text = re.sub(r'"(id|key_id|by_key)": "[0-9a-f]{12}"', r'"\1": "0123456789ab"', text)
    return re.sub(r"\b[0-9a-f]{12}\b(?=\")", "0123456789ab", text)


def main() -> None:
    OUT.write_text(_placeholders(json.dumps(capture(), indent=1, sort_keys=True)) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
