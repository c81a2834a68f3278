"""The command line: every command has --help; ingest validates files and stores all or nothing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from engine.cli import _register, app
from engine.store import SQLiteEventStore

_register()
runner = CliRunner()

ENROL = ('{"occurred_at":"2026-03-02T08:00:00+00:00","data":{"type":"athlete.enrolled","body_mass_kg":70,'
         '"time_zone":"Europe/London","pre_injury_weekly_km":40,"pre_injury_longest_run_km":16}}')
PAIN = '{"occurred_at":"2026-03-02T09:00:00+00:00","data":{"type":"pain.reported","score":%d,"context":"rest"}}'


def command_names() -> list[str]:
    names = []
    for info in app.registered_commands:
        names.append([info.name or info.callback.__name__])
    for group in app.registered_groups:
        names.append([group.name])
        names += [[group.name, c.name or c.callback.__name__] for c in group.typer_instance.registered_commands]
    return names


@pytest.mark.parametrize("command", command_names(), ids=" ".join)
def test_every_command_has_help(command):
    """`strideline <command> --help` explains the command and exits 0."""
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_ingest_stores_a_jsonl_file_and_projects(tmp_path):
    """A JSON Lines file is validated, appended and projected."""
    path = tmp_path / "events.jsonl"
    path.write_text(ENROL + "\n" + PAIN % 2 + "\n")
    db = tmp_path / "s.sqlite3"
    result = runner.invoke(app, ["ingest", "ath-1", str(path), "--store", str(db)])
    assert result.exit_code == 0, result.output
    assert SQLiteEventStore(db).stream_version("ath-1") == 2


def test_ingest_rejects_a_bad_file_and_stores_nothing(tmp_path):
    """One invalid event: exit 1, the path and reason printed, nothing stored."""
    path = tmp_path / "events.json"
    path.write_text("[" + ENROL + "," + PAIN % 12 + "]")
    db = tmp_path / "s.sqlite3"
    result = runner.invoke(app, ["ingest", "ath-1", str(path), "--store", str(db)])
    assert result.exit_code == 1
    assert "$[1].data.score" in result.output and "nothing stored" in result.output
    assert SQLiteEventStore(db).stream_version("ath-1") == 0


def test_ingest_names_the_line_that_is_not_json(tmp_path):
    """A broken JSON Lines file says which line."""
    path = tmp_path / "events.jsonl"
    path.write_text(ENROL + "\n{oops\n")
    result = runner.invoke(app, ["ingest", "ath-1", str(path), "--store", str(tmp_path / "s.sqlite3")])
    assert result.exit_code == 1 and "line 2" in result.output


def test_view_of_an_unknown_athlete_is_a_clear_error(tmp_path):
    """Asking for an athlete with no events exits 1 and says so."""
    result = runner.invoke(app, ["view", "nobody", "--store", str(tmp_path / "s.sqlite3")])
    assert result.exit_code == 1 and "no athlete 'nobody'" in result.output
