"""--engine ray: replay, simulate and sweep partitions run as Ray tasks, with the local pool's outputs.

A local Ray cluster with 2 CPUs stands in for a real one (the same task code runs on either)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from engine.cli import _register, app
from engine.replay import PolicySpec, replay, simulate, sweep

BASELINE = "engine.policies.baseline:BaselinePolicy"
BOLD = PolicySpec(BASELINE, overrides=(("run.weekly_step", 0.3), ("phases.settle_days", 3)), label="bold")


def test_a_replay_on_ray_writes_what_the_local_pool_writes(local_ray, live_cohort, tmp_path):
    """Given two policies, Ray tasks and two local processes give the same recommendation digest,
    the same tables row for row, and the same comparison."""
    path, _ = live_cohort
    local = replay(path, [BASELINE, BOLD], tmp_path / "local", workers=2, report=False)
    on_ray = replay(path, [BASELINE, BOLD], tmp_path / "ray", engine="ray", report=False)
    assert on_ray.engine == "ray" and local.engine == "local"
    assert on_ray.recommendation_digest() == local.recommendation_digest()
    names = sorted(p.name for p in (tmp_path / "local").glob("*.parquet"))
    assert names == sorted(p.name for p in (tmp_path / "ray").glob("*.parquet")) and "diff.parquet" in names
    for name in names:
        assert pq.read_table(tmp_path / "ray" / name).equals(pq.read_table(tmp_path / "local" / name)), name
    assert on_ray.comparison == local.comparison
    assert not (tmp_path / "ray" / "_parts").exists()


def test_a_closed_loop_on_ray_gives_the_local_outcomes(local_ray, tmp_path):
    """Given the same cohort, Ray tasks give the same athlete rows, intervals and differences."""
    local = simulate([BASELINE, BOLD], athletes=3, seeds=2, weeks=3, workers=2)
    on_ray = simulate([BASELINE, BOLD], athletes=3, seeds=2, weeks=3, engine="ray")
    assert on_ray.athlete_rows == local.athlete_rows
    assert on_ray.intervals == local.intervals and on_ray.comparison == local.comparison


def test_a_sweep_on_ray_ranks_the_configs_as_the_local_pool_does(local_ray, live_cohort, tmp_path):
    """Given a 2 x 2 replay grid, the rows (metrics and ranks) are the same on Ray and locally."""
    path, _ = live_cohort
    grid = ["run.weekly_step=0.1,0.2", "phases.settle_days=3,7"]
    local = sweep(BASELINE, grid, tmp_path / "local", source=path, workers=2, report=False)
    on_ray = sweep(BASELINE, grid, tmp_path / "ray", source=path, engine="ray", report=False)
    assert on_ray.rows == local.rows


def test_the_command_runs_on_ray_and_records_the_engine_and_digest(local_ray, live_cohort, tmp_path):
    """`strideline replay --engine ray`: exit 0, the manifest says ray and holds the local digest."""
    path, _ = live_cohort
    if not any(getattr(c, "name", None) == "replay" for c in app.registered_commands):
        _register()
    runner = CliRunner()
    for engine in ("local", "ray"):
        result = runner.invoke(app, ["replay", "--store", str(path), "-p", BASELINE, "--out", str(tmp_path / engine),
                                     "--engine", engine, "--no-report"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    local, on_ray = (json.loads((tmp_path / e / "manifest.json").read_text()) for e in ("local", "ray"))
    assert on_ray["engine"] == "ray" and on_ray["recommendation_digest"] == local["recommendation_digest"]
