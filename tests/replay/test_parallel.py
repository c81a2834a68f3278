"""Worker processes change nothing but the speed."""

from __future__ import annotations

import pyarrow.parquet as pq

from engine.replay import PolicySpec, replay

BASELINE = "engine.policies.baseline:BaselinePolicy"


def test_parallel_replay_equals_serial_replay(live_cohort, tmp_path):
    """Two processes (eight hash partitions) write the same tables, row for row, as one process."""
    path, _ = live_cohort
    policies = [BASELINE, PolicySpec(BASELINE, overrides=(("strength.load_step", 0.1),), label="bold")]
    serial = replay(path, policies, tmp_path / "serial", report=False)
    parallel = replay(path, policies, tmp_path / "parallel", workers=2, report=False)
    assert (parallel.events, parallel.athletes) == (serial.events, serial.athletes)
    names = sorted(p.name for p in (tmp_path / "serial").glob("*.parquet"))
    assert names == sorted(p.name for p in (tmp_path / "parallel").glob("*.parquet"))
    assert "diff.parquet" in names and "recommendations_bold.parquet" in names
    for name in names:
        assert pq.read_table(tmp_path / "parallel" / name).equals(pq.read_table(tmp_path / "serial" / name)), name
    for name in ("recommendations_baseline.csv", "diff.csv", "metrics.csv"):
        assert (tmp_path / "parallel" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()
