"""Event builders for the API tests (JSON shapes, as a client sends them)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any


def at(when: dt.datetime) -> str:
    return when.isoformat()


def enrolment(when: dt.datetime, **extra: Any) -> dict[str, Any]:
    return {"occurred_at": at(when), "event_id": str(uuid.uuid4()),
            "data": {"type": "athlete.enrolled", "body_mass_kg": 68, "time_zone": "Europe/London",
                     "pre_injury_weekly_km": 40, "pre_injury_longest_run_km": 16, **extra}}


def injury(when: dt.datetime) -> dict[str, Any]:
    return {"occurred_at": at(when), "event_id": str(uuid.uuid4()),
            "data": {"type": "injury.reported", "injury_type": "tendinopathy",
                     "onset_date": (when.date() - dt.timedelta(days=10)).isoformat()}}


def pain(when: dt.datetime, score: Any = 2, **extra: Any) -> dict[str, Any]:
    return {"occurred_at": at(when), "event_id": str(uuid.uuid4()),
            "data": {"type": "pain.reported", "score": score, "context": "rest", **extra}}


def lift(when: dt.datetime, load_kg: float = 40) -> dict[str, Any]:
    return {"occurred_at": at(when), "event_id": str(uuid.uuid4()),
            "data": {"type": "lift.logged", "exercise": "squat", "load_kg": load_kg, "reps": 8,
                     "sets": 3, "rpe": 7}}
