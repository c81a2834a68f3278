"""Parameter sweeps: one row per config of the grid."""

from __future__ import annotations

from engine.replay import sweep

BASELINE = "engine.policies.baseline:BaselinePolicy"


def test_a_replay_sweep_has_one_row_per_config(live_cohort, tmp_path):
    """A 3 x 2 grid gives six rows, each with its config values and its outcome metrics."""
    path, _ = live_cohort
    result = sweep(BASELINE, ["strength.load_step=0.05,0.1,0.2", "run.weekly_step=0.1,0.2"], tmp_path / "out",
                   source=path, report=False)
    rows = result.table.to_pylist()
    assert [(r["config.strength.load_step"], r["config.run.weekly_step"]) for r in rows] == [
        (0.05, 0.1), (0.05, 0.2), (0.1, 0.1), (0.1, 0.2), (0.2, 0.1), (0.2, 0.2)]
    assert all(r["athletes"] == 8 and r["events"] > 0 for r in rows)
    assert (tmp_path / "out" / "sweep.parquet").is_file() and (tmp_path / "out" / "sweep.csv").is_file()


def test_a_closed_loop_sweep_has_one_row_per_config(tmp_path):
    """In closed loop each config coaches the same cohort; one row per config with intervals."""
    result = sweep(BASELINE, ["run.weekly_step=0.1,0.3"], tmp_path / "out", closed_loop=True, athletes=3,
                   seeds=2, weeks=3, report=False)
    rows = result.table.to_pylist()
    assert [r["config.run.weekly_step"] for r in rows] == [0.1, 0.3]
    assert {"reinjury_rate", "reinjury_rate_low", "reinjury_rate_high", "adherence"} <= set(rows[0])
