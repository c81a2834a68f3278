"""Parameter sweeps: a grid of policy configs evaluated in one run, one row per config.

``--grid run.weekly_step=0.05,0.1,0.15,0.2 --grid strength.load_step=0.05,0.1`` gives 8 configs
(the cartesian product; the last field varies fastest). In replay mode all configs are replayed in
one pass over the log (each athlete is read once and folded under every config); in closed-loop
mode the same simulated cohort lives under every config. Output: ``sweep.parquet|csv`` with the
grid values as columns (``config.<field>``) followed by that config's outcome metrics, plus the
underlying replay or closed-loop files in the same directory.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.replay.closedloop import CLOSED_LOOP_METRICS
from engine.replay.errors import ReplayError
from engine.replay.policies import PolicySpec, expand_grid, parse_grid, parse_policy
from engine.replay.tables import write_table


@dataclass
class SweepResult:
    rows: list[dict]
    table: object
    """pyarrow Table, one row per config."""
    files: dict[str, Path]
    inner: object
    """The ReplayResult or ClosedLoopResult the rows come from."""


def sweep(base: PolicySpec | str, grid: Sequence[str] | Sequence[tuple[str, list]], out_dir: str | Path, *,
          source: str | Path | None = None, closed_loop: bool = False, athletes: int = 50, seeds: int = 3,
          weeks: int = 16, first_seed: int = 1, start: dt.date | None = None, horizon: dt.datetime | None = None,
          workers: int = 1, csv: bool = True, report: bool = True, progress=None) -> SweepResult:
    """Evaluate every config of ``grid`` over ``base`` (replay of ``source``, or closed loop)."""
    spec = base if isinstance(base, PolicySpec) else parse_policy(base)
    fields = grid if grid and not isinstance(grid[0], str) else parse_grid(grid)  # type: ignore[arg-type]
    if not fields:
        raise ReplayError("a sweep needs at least one --grid field=v1,v2,...")
    configs = expand_grid(spec, fields)
    specs = [PolicySpec(c.spec, c.config, c.overrides, f"config_{i:03d}") for i, c in enumerate(configs)]
    out = Path(out_dir)
    paths = [p for p, _ in fields]
    rows = []
    if closed_loop:
        from engine.replay.loopresults import simulate

        inner = simulate(specs, athletes, seeds, weeks=weeks, first_seed=first_seed, start=start, out_dir=out,
                         workers=workers, report=report, csv=csv, progress=progress)
        for s in specs:
            row = _config_columns(s, paths, len(spec.overrides))
            for metric, _ in CLOSED_LOOP_METRICS:
                stats = inner.interval(s.label, metric)
                row |= {metric: stats["mean"], f"{metric}_low": stats["low"], f"{metric}_high": stats["high"]}
            rows.append(row)
    else:
        if source is None:
            raise ReplayError("a replay sweep needs a source (a store or an exported log)")
        from engine.replay.backtest import replay

        inner = replay(source, specs, out, horizon=horizon, workers=workers, diff=False, report=report, csv=csv,
                       progress=progress)
        summaries = {r["policy"]: r for r in inner.metrics.to_pylist()}
        for s in specs:
            rows.append(_config_columns(s, paths, len(spec.overrides)) | {
                k: v for k, v in summaries[s.label].items() if k != "policy"})
    table = write_table(rows, None, out / "sweep.parquet", out / "sweep.csv" if csv else None)
    files = dict(inner.files) | {"sweep": out / "sweep.parquet"}
    return SweepResult(rows, table, files, inner)


def _config_columns(spec: PolicySpec, paths: list[str], skip: int) -> dict:
    values = dict(spec.overrides[skip:])
    row: dict = {"config": spec.label}
    for path in paths:
        value = values[path]
        row[f"config.{path}"] = value if isinstance(value, (int, float, str, bool)) else json.dumps(value)
    return row
