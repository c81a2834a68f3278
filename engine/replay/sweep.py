"""Parameter sweeps: a grid of policy configs evaluated in one run, one row per config.

``--grid run.weekly_step=0.05,0.1,0.15,0.2 --grid strength.load_step=0.05,0.1`` gives 8 configs
(the cartesian product; the last field varies fastest). In replay mode all configs are replayed in
one pass over the log (each athlete is read once and folded under every config); in closed-loop
mode the same simulated cohort lives under every config. Output: ``sweep.parquet|csv`` with the
grid values as columns (``config.<field>``) followed by that config's outcome metrics and its
``rank`` on the objective, ``report.html`` (heatmaps per outcome over the grid, the ranking), plus
the underlying replay or closed-loop tables in the same directory.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.replay.closedloop import CLOSED_LOOP_METRICS
from engine.replay.compare import CLOSED_LOOP_MEASURES, REPLAY_MEASURES, Measure
from engine.replay.engines import Engine
from engine.replay.errors import ReplayError
from engine.replay.policies import PolicySpec, expand_grid, parse_grid, parse_policy
from engine.replay.progress import ProgressSink
from engine.replay.tables import write_table

DEFAULT_OBJECTIVE = {False: "reached_return_to_run", True: "reached_pre_injury_volume"}


@dataclass
class SweepResult:
    """One row per config (``rows``, ``table``), ranked on ``objective``; ``to_polars()`` for a DataFrame."""

    rows: list[dict]
    table: object
    """pyarrow Table, one row per config."""
    files: dict[str, Path]
    inner: object
    """The ReplayResult or ClosedLoopResult the rows come from."""
    grid: list[tuple[str, list]] = field(default_factory=list)
    objective: str = ""
    measures: tuple[Measure, ...] = ()

    def ranked(self) -> list[dict]:
        """The rows, best first on the objective (configs with no value last)."""
        return sorted(self.rows, key=lambda r: (r["rank"] is None, r["rank"] or 0))

    def to_polars(self):
        import polars as pl

        return pl.from_arrow(self.table)


def measures_of(closed_loop: bool) -> tuple[Measure, ...]:
    return CLOSED_LOOP_MEASURES if closed_loop else REPLAY_MEASURES


def _objective(name: str | None, closed_loop: bool) -> Measure:
    name = name or DEFAULT_OBJECTIVE[closed_loop]
    for measure in measures_of(closed_loop):
        if measure.key == name:
            return measure
    choices = ", ".join(m.key for m in measures_of(closed_loop))
    raise ReplayError(f"unknown objective {name!r}; choose one of: {choices}")


def _rank(rows: list[dict], objective: Measure) -> None:
    valued = [r for r in rows if r.get(objective.key) is not None]
    valued.sort(key=lambda r: -objective.better * r[objective.key])  # stable: ties keep grid order
    for i, row in enumerate(valued, 1):
        row["rank"] = i
    for row in rows:
        row.setdefault("rank", None)


def sweep(base: PolicySpec | str, grid: Sequence[str] | Sequence[tuple[str, list]], out_dir: str | Path, *,
          source: str | Path | None = None, closed_loop: bool = False, athletes: int = 50, seeds: int = 3,
          weeks: int = 16, first_seed: int = 1, start: dt.date | None = None, horizon: dt.datetime | None = None,
          objective: str | None = None, workers: int = 1, csv: bool = True, report: bool = True,
          engine: Engine | str = "local", ray_address: str | None = None,
          progress: ProgressSink | bool | None = None) -> SweepResult:
    """Evaluate every config of ``grid`` over the ``base`` policy: a replay of ``source`` (a store
    or an exported log), or the closed loop (``closed_loop=True``, ``athletes`` x ``seeds``, ``weeks``).

    grid: ``["run.weekly_step=0.05,0.1", ...]`` or ``[("run.weekly_step", [0.05, 0.1]), ...]``.
    objective: the metric configs are ranked on (its direction is known: e.g. re-injury rate lower
    is better); default ``reached_return_to_run`` (replay) or ``reached_pre_injury_volume``.
    report: write ``report.html`` (heatmaps, ranking). engine, ray_address, workers, progress: as
    for ``replay``. Returns a ``SweepResult`` (``ranked()``, ``to_polars()``).
    """
    spec = base if isinstance(base, PolicySpec) else parse_policy(base)
    fields = grid if grid and not isinstance(grid[0], str) else parse_grid(grid)  # type: ignore[arg-type]
    if not fields:
        raise ReplayError("a sweep needs at least one --grid field=v1,v2,...")
    goal = _objective(objective, closed_loop)
    configs = expand_grid(spec, fields)
    specs = [PolicySpec(c.spec, c.config, c.overrides, f"config_{i:03d}") for i, c in enumerate(configs)]
    out = Path(out_dir)
    paths = [p for p, _ in fields]
    rows = []
    if closed_loop:
        from engine.replay.compare import cohort_values
        from engine.replay.loopresults import simulate

        inner = simulate(specs, athletes, seeds, weeks=weeks, first_seed=first_seed, start=start, out_dir=out,
                         workers=workers, report=False, csv=csv, engine=engine, ray_address=ray_address,
                         progress=progress)
        for s in specs:
            row = _config_columns(s, paths, len(spec.overrides))
            for metric, _ in CLOSED_LOOP_METRICS:
                stats = inner.interval(s.label, metric)
                row |= {metric: stats["mean"], f"{metric}_low": stats["low"], f"{metric}_high": stats["high"]}
            pooled = cohort_values([r for r in inner.athlete_rows if r["policy"] == s.label], CLOSED_LOOP_MEASURES)
            row |= {k: v for k, v in pooled.items() if k not in row}
            rows.append(row)
    else:
        if source is None:
            raise ReplayError("a replay sweep needs a source (a store or an exported log)")
        from engine.replay.backtest import replay

        inner = replay(source, specs, out, horizon=horizon, workers=workers, diff=False, report=False, csv=csv,
                       engine=engine, ray_address=ray_address, progress=progress)
        summaries = {r["policy"]: r for r in inner.metrics.to_pylist()}
        for s in specs:
            rows.append(_config_columns(s, paths, len(spec.overrides)) | {
                k: v for k, v in summaries[s.label].items() if k != "policy"})
    _rank(rows, goal)
    table = write_table(rows, None, out / "sweep.parquet", out / "sweep.csv" if csv else None)
    files = {k: v for k, v in inner.files.items() if k != "report"} | {"sweep": out / "sweep.parquet"}
    result = SweepResult(rows, table, files, inner, list(fields), goal.key, measures_of(closed_loop))
    if report:
        from engine.replay.report_sweep import sweep_report

        result.files |= sweep_report(result, out)
    return result


def _config_columns(spec: PolicySpec, paths: list[str], skip: int) -> dict:
    values = dict(spec.overrides[skip:])
    row: dict = {"config": spec.label}
    for path in paths:
        value = values[path]
        row[f"config.{path}"] = value if isinstance(value, (int, float, str, bool)) else json.dumps(value)
    return row
