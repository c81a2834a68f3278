"""`strideline advice ATHLETE`: the advice in force from the command line."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from advice_support import MONDAY, enrol, issued, record, withdrawn
from engine.cli import _register, app
from engine.store import SQLiteEventStore

_register()
runner = CliRunner()
AT = (MONDAY + dt.timedelta(days=2)).isoformat()


def seeded(tmp_path) -> str:
    """A store where Monday's deload was withdrawn and a long-run cap and a squat hold stand."""
    path = tmp_path / "advice.sqlite3"
    store = SQLiteEventStore(path)
    enrol(store, "ath-1", time_zone="Europe/Paris")
    deload = issued("pain", "deload", MONDAY)
    record(store, "ath-1", deload,
           issued("run:long_cap", "hold", MONDAY, target={"long_run_km": 8.5},
                  explanation="long run 8.5 km at most: 10% over the longest of 4 weeks (7.7 km)"),
           issued("strength:squat", "hold", MONDAY + dt.timedelta(hours=1), target={"load_kg": 50.0}),
           withdrawn(deload, MONDAY + dt.timedelta(hours=2)))
    store.close()
    return str(path)


def test_the_table_shows_each_topic_with_its_local_date_explanation_and_targets(tmp_path):
    """Given a withdrawn deload and two holds in force, when `strideline advice` runs, then the
    table lists the two topics with their kind, local date, explanation and targets, not the deload."""
    result = runner.invoke(app, ["advice", "ath-1", "--store", seeded(tmp_path), "--at", AT])
    assert result.exit_code == 0, result.output
    assert "Advice in force for ath-1 on 2026-03-04 (Europe/Paris)" in result.output
    assert "run:long_cap" in result.output and "long_run_km 8.5" in result.output
    assert "strength:squat" in result.output and "load_kg 50.0" in result.output and "2026-03-02" in result.output
    assert "deload" not in result.output


def test_json_prints_the_advice_in_force_document(tmp_path):
    """Given the same store, when run with --json, then it prints the AdviceInForce document."""
    result = runner.invoke(app, ["advice", "ath-1", "--store", seeded(tmp_path), "--at", AT, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert (document["athlete_id"], document["time_zone"], document["local_date"]) == (
        "ath-1", "Europe/Paris", "2026-03-04")
    assert [item["topic"] for item in document["items"]] == ["run:long_cap", "strength:squat"]
    assert document["items"][0]["target"] == {"long_run_km": 8.5}


def test_an_unknown_athlete_or_a_naive_moment_is_an_error(tmp_path):
    """Given a store, when asked for an athlete it does not hold, then exit 1 naming them; a
    moment without offset is a usage error (exit 2)."""
    store = seeded(tmp_path)
    unknown = runner.invoke(app, ["advice", "nobody", "--store", store])
    assert unknown.exit_code == 1 and "no athlete 'nobody'" in unknown.output
    naive = runner.invoke(app, ["advice", "ath-1", "--store", store, "--at", "2026-03-04T08:00:00"])
    assert naive.exit_code == 2 and "UTC offset" in naive.output
