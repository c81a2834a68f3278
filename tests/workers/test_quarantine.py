"""An event the projector cannot fold (one that got past the edge: written before the timestamp
bounds existed, or a fold bug) is quarantined: counted in a metric, listed by
`strideline quarantine list`, reported by `strideline rebuild`; the athlete goes on."""

from __future__ import annotations

import json

import pytest
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from engine import pipeline
from engine.cli import _register, app
from engine.ingest import Ingestor
from engine.policies.base import load_policy
from engine.runtime import DEFAULT_POLICY
from events.codec import validate


@pytest.fixture
def poisoned(store, clock):
    """An athlete in America/Los_Angeles with a pain report dated 0001-01-01 stored behind ingest's
    back (local-time arithmetic overflows on it), then a valid one."""
    ingestor = Ingestor(store, clock=clock)
    now = clock.now()
    ingestor.append("ath-la", [{"occurred_at": now.isoformat(), "data": {
        "type": "athlete.enrolled", "body_mass_kg": 70, "time_zone": "America/Los_Angeles",
        "pre_injury_weekly_km": 30, "pre_injury_longest_run_km": 12}}])
    [bad] = validate([{"occurred_at": "0001-01-01T00:00:00+00:00",
                       "data": {"type": "pain.reported", "score": 3, "context": "rest"}}])
    store.append("ath-la", [bad])
    ingestor.append("ath-la", [{"occurred_at": now.isoformat(), "data": {"type": "pain.reported", "score": 2,
                                                                        "context": "rest"}}])
    return store.read_stream("ath-la", 2, 1)[0]


def quarantined_total() -> float:
    return REGISTRY.get_sample_value("strideline_events_quarantined_total", {"type": "pain.reported"}) or 0.0


def test_the_projector_quarantines_the_event_counts_it_and_goes_on(store, poisoned):
    """The bad event is recorded with its reason, counted once, and the events after it are folded."""
    before = quarantined_total()
    outcome = pipeline.project_athlete(store, "ath-la", load_policy(DEFAULT_POLICY))
    state, checkpoint = pipeline.load_state(store, "ath-la")
    assert checkpoint == 3 and outcome.events_folded == 3
    [item] = state.quarantined
    assert item.event_id == str(poisoned.event_id) and item.version == 2 and item.reason
    assert quarantined_total() == before + 1
    pipeline.project_athlete(store, "ath-la", load_policy(DEFAULT_POLICY))  # nothing new: not counted again
    assert quarantined_total() == before + 1


def test_quarantine_list_shows_the_event(store, poisoned, tmp_path):
    """`strideline quarantine list --json` lists athlete, version, event id, type and reason."""
    pipeline.project_athlete(store, "ath-la", load_policy(DEFAULT_POLICY))
    _register()
    result = CliRunner().invoke(app, ["quarantine", "list", "--store", f"sqlite:///{store.path}", "--json"])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert (row["athlete_id"], row["version"], row["event_id"], row["type"]) == \
        ("ath-la", 2, str(poisoned.event_id), "pain.reported")
    table = CliRunner().invoke(app, ["quarantine", "list", "--store", f"sqlite:///{store.path}"])
    assert table.exit_code == 0 and "1 quarantined event" in table.output


def test_rebuild_reports_the_quarantined_event_instead_of_failing(store, poisoned):
    """`strideline rebuild` folds the athlete again, exits 0, and says how many events it set aside."""
    _register()
    result = CliRunner().invoke(app, ["rebuild", "--store-url", f"sqlite:///{store.path}"])
    assert result.exit_code == 0, result.output
    assert "1 event(s) quarantined" in result.output
    assert pipeline.load_state(store, "ath-la")[1] == 3


def test_an_unknown_athlete_is_an_error(store, poisoned):
    _register()
    result = CliRunner().invoke(app, ["quarantine", "list", "--store", f"sqlite:///{store.path}", "--athlete", "x"])
    assert result.exit_code == 2



def test_a_whole_store_replay_goes_past_the_quarantined_event(store, poisoned, tmp_path):
    """`strideline replay` of the whole store folds past the event the live projector quarantined
    (same fold, same decision), finishes instead of exiting 1, and says how many it set aside."""
    _register()
    result = CliRunner().invoke(app, ["replay", "--store", f"sqlite:///{store.path}", "--out", str(tmp_path / "r"),
                                      "--workers", "1", "--no-report"])
    assert result.exit_code == 0, result.output
    assert "1 event(s) quarantined" in result.output
