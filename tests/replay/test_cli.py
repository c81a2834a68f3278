"""The commands: replay, export and import from the command line, and their errors."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from engine.cli import _register, app

BASELINE = "engine.policies.baseline:BaselinePolicy"
runner = CliRunner()


def invoke(*args: str):
    _register_once()
    return runner.invoke(app, list(args), catch_exceptions=False)


def _register_once() -> None:
    if not any(getattr(c, "name", None) == "replay" for c in app.registered_commands):
        _register()


def test_replay_writes_tables_and_a_self_contained_report(live_cohort, tmp_path):
    """Two policies: recommendations, diff, metrics (Parquet and CSV), report.html with inline PNG charts."""
    path, _ = live_cohort
    out = tmp_path / "out"
    result = invoke("replay", "--store", str(path), "-p", BASELINE,
                    "-p", f"bold={BASELINE}", "--out", str(out), "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "events/s" in result.output
    for name in ("recommendations_baseline", "recommendations_bold", "diff", "metrics", "athlete_metrics"):
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file(), name
    html = (out / "report.html").read_text()
    assert len(re.findall(r"src='data:image/png;base64,", html)) == 4
    assert sorted(p.name for p in (out / "charts").iterdir()) == ["forest.png", "metrics.png", "phase_timelines.png",
                                                                "time_to_phase.png"]


def test_export_then_import_through_the_cli(live_cohort, tmp_path):
    """`export` writes JSONL; `import` fills an empty store; a second import is refused with exit code 1."""
    path, _ = live_cohort
    log = tmp_path / "log.jsonl"
    assert invoke("export", "--store", str(path), "--out", str(log)).exit_code == 0
    copy = tmp_path / "copy.sqlite3"
    first = invoke("import", "--input", str(log), "--store", str(copy))
    assert first.exit_code == 0 and "imported" in first.output
    again = invoke("import", "--input", str(log), "--store", str(copy))
    assert again.exit_code == 1 and "already holds events" in again.output


def test_a_policy_that_fails_to_load_exits_with_its_name(live_cohort, tmp_path):
    """A bad policy spec: exit code 1 and a message naming it."""
    path, _ = live_cohort
    result = invoke("replay", "--store", str(path), "-p", "nowhere.to.be:Found", "--out", str(tmp_path / "o"))
    assert result.exit_code == 1 and "nowhere.to.be:Found" in result.output


def test_a_sweep_over_a_field_the_config_lacks_is_refused(live_cohort, tmp_path):
    """`--grid run.weekly_stepp=...`: exit code 1, the message names the field (brackets and all)."""
    path, _ = live_cohort
    result = invoke("sweep", "--store", str(path), "--grid", "run.weekly_stepp=0.1,0.2", "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "[run.weekly_stepp=0.1]" in result.output and "config has no field 'run.weekly_stepp'" in result.output
