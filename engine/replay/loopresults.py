"""Closed-loop orchestration: jobs across processes, outcomes per seed, intervals, files, report.

Output directory:

* ``closed_loop_athletes.parquet|csv`` - one outcome row per (policy, seed, athlete);
* ``closed_loop_seeds.parquet|csv`` - the cohort's outcome metrics per (policy, seed);
* ``closed_loop.parquet|csv`` - per policy and metric: mean across seeds, sd, 95% t-interval (shares
  clipped to [0, 1]); and, for every policy after the first, the paired per-seed difference to the
  first (``comparison`` column);
* ``comparison.parquet|csv`` - per policy and metric: the paired difference to the reference policy
  with a 95% bootstrap interval over athletes resampled within each seed (``engine.replay.compare``);
* ``report.html``, ``charts/*.png``, ``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.replay.closedloop import CLOSED_LOOP_METRICS, LoopJob, run_loop_job
from engine.replay.compare import compare_closed_loop
from engine.replay.engines import Engine, as_engine
from engine.replay.errors import ReplayError
from engine.replay.policies import PolicySpec, load_all, parse_policy
from engine.replay.progress import ProgressSink, progress_sink
from engine.replay.summary import interval, summarise

PAGES = 25
"""Athletes of the first seed that get a page in the report (with their recommendations)."""


def page_key(row: dict) -> str:
    return f"seed{row['seed']}-{row['athlete_id']}"


SHARE_METRICS = frozenset({"reinjury_rate", "reached_pre_injury_volume", "adherence", "dropoff_athletes",
                           "dropped_off_at_end", "reached_integration"})
"""Rates: their intervals are clipped to [0, 1] (a t-interval over few seeds can cross the bounds);
the other metrics (counts, weeks) are clipped below at 0."""


@dataclass
class ClosedLoopResult:
    """Outcomes of a closed-loop run; ``to_polars()`` gives the intervals as a DataFrame."""

    policies: list[dict]
    athletes: int
    seeds: list[int]
    weeks: int
    seconds: float
    per_seed: list[dict]
    """summarise() rows with a ``seed`` column."""
    intervals: list[dict]
    """Long format: policy, comparison, metric, mean, sd, low, high, seeds."""
    athlete_rows: list[dict] = field(repr=False, default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    out_dir: Path | None = None
    comparison: list[dict] = field(default_factory=list)
    """Paired differences to the reference policy, 95% bootstrap intervals (``compare``)."""
    engine: str = "local"
    logs: dict[tuple[str, str], list[dict]] = field(default_factory=dict, repr=False)
    """(policy, athlete page key) -> recommendations, for the first seed's first ``PAGES`` athletes."""

    @property
    def labels(self) -> list[str]:
        return [p["label"] for p in self.policies]

    def to_polars(self, table: str = "intervals"):
        """A polars DataFrame of ``intervals`` (default), ``comparison``, ``per_seed`` or ``athletes``."""
        import polars as pl

        rows = {"intervals": self.intervals, "comparison": self.comparison, "per_seed": self.per_seed,
                "athletes": self.athlete_rows}
        if table not in rows:
            raise KeyError(f"no table {table!r}: {', '.join(rows)}")
        return pl.DataFrame(rows[table], infer_schema_length=None)

    def interval(self, policy: str, metric: str, comparison: str = "") -> dict:
        for row in self.intervals:
            if row["policy"] == policy and row["metric"] == metric and row["comparison"] == comparison:
                return row
        raise KeyError((policy, metric, comparison))


def simulate(policies: Sequence[PolicySpec | str], athletes: int = 50, seeds: int = 5, *, weeks: int = 16,
             first_seed: int = 1, start: dt.date | None = None, out_dir: str | Path | None = None,
             workers: int = 1, report: bool = True, csv: bool = True, reference: str | None = None,
             engine: Engine | str = "local", ray_address: str | None = None,
             progress: ProgressSink | bool | None = None) -> ClosedLoopResult:
    """Closed loop: the same simulated cohort (``athletes`` x ``seeds``) coached by each policy.

    policies: ``PolicySpec`` objects or ``"[label=]module:attr[@config.toml]"`` strings.
    weeks, first_seed, start: the cohort (seeds first_seed..first_seed+seeds-1; start: first day).
    out_dir: where tables, ``report.html`` and ``manifest.json`` go (None: nothing written).
    reference: the label the others are compared with (default: the first policy).
    engine: ``"local"`` (``workers`` processes) or ``"ray"`` (``ray_address``, else RAY_ADDRESS,
    else a local Ray cluster). progress: ``True`` for progress bars on stderr.
    """
    from engine.replay.backtest import describe
    from engine.simulation.cohort import DEFAULT_START

    if athletes < 1 or seeds < 1 or weeks < 1:
        raise ReplayError("athletes, seeds and weeks must be at least 1")
    engine = as_engine(engine, ray_address)
    loaded = load_all([p if isinstance(p, PolicySpec) else parse_policy(p) for p in policies])
    specs = tuple((p.label, p.spec) for p in loaded)
    labels = [label for label, _ in specs]
    if reference is not None and reference not in labels:
        raise ReplayError(f"no policy labelled {reference!r} to compare with; labels: {labels}")
    start = start or DEFAULT_START
    seed_list = list(range(first_seed, first_seed + seeds))
    slots = engine.slots(workers)
    per_seed_jobs = max(1, math.ceil(slots * 4 / seeds)) if slots > 1 else 1
    chunk = math.ceil(athletes / per_seed_jobs)
    pages = PAGES if out_dir is not None and report else 0  # the first seed's first athletes get a page
    jobs = [LoopJob(specs, seed, start, weeks, tuple(range(i, min(athletes, i + chunk))),
                    pages if seed == first_seed else 0)
            for seed in seed_list for i in range(0, athletes, chunk)]
    began = time.perf_counter()
    with progress_sink(progress) as sink:
        sink.start("simulating", athletes * seeds * len(specs), "athlete runs")
        results = engine.run(run_loop_job, jobs, workers, lambda e, a: sink.advance(a))
        rows = [row for i in range(len(labels)) for part in results for row in part[i]]
        rows.sort(key=lambda r: (labels.index(r["policy"]), r["seed"], r["index"]))
        logs = {(r["policy"], page_key(r)): r.pop("recommendation_log") for r in rows if "recommendation_log" in r}
        per_seed = []
        for label in labels:
            for seed in seed_list:
                cohort = [r for r in rows if r["policy"] == label and r["seed"] == seed]
                per_seed.append({"seed": seed} | summarise(label, cohort))
        result = ClosedLoopResult(describe(loaded), athletes, seed_list, weeks, time.perf_counter() - began,
                                  per_seed, _intervals(labels, per_seed), rows)
        result.comparison = compare_closed_loop(rows, labels, reference or labels[0])
        result.logs = logs
        result.engine = engine.name
        if out_dir is not None:
            _write(result, Path(out_dir), csv, report, sink)
    return result


def _intervals(labels: list[str], per_seed: list[dict]) -> list[dict]:
    out = []
    by = {(r["policy"], r["seed"]): r for r in per_seed}
    seeds = sorted({r["seed"] for r in per_seed})
    for label in labels:
        for metric, _ in CLOSED_LOOP_METRICS:
            values = [by[(label, s)][metric] for s in seeds]
            stats = _named(interval(values))
            top = 1.0 if metric in SHARE_METRICS else math.inf  # every metric here is >= 0
            stats |= {k: None if stats[k] is None else min(top, max(0.0, stats[k])) for k in ("low", "high")}
            out.append({"policy": label, "comparison": "", "metric": metric} | stats)
    for label in labels[1:]:
        for metric, _ in CLOSED_LOOP_METRICS:
            pairs = [(by[(label, s)][metric], by[(labels[0], s)][metric]) for s in seeds]
            diffs = [a - b for a, b in pairs if a is not None and b is not None]
            out.append({"policy": label, "comparison": f"minus {labels[0]}", "metric": metric}
                       | _named(interval(diffs)))
    return out


def _named(stats: dict) -> dict:
    return {"mean": stats["mean"], "sd": stats["sd"], "low": stats["low"], "high": stats["high"],
            "seeds": stats["n"]}


def _write(result: ClosedLoopResult, out: Path, csv: bool, report: bool, progress) -> None:
    from engine.replay.tables import write_table

    out.mkdir(parents=True, exist_ok=True)
    result.out_dir = out
    for name, rows in (("closed_loop_athletes", result.athlete_rows), ("closed_loop_seeds", result.per_seed),
                       ("closed_loop", result.intervals), ("comparison", result.comparison)):
        write_table(rows, None, out / f"{name}.parquet", out / f"{name}.csv" if csv else None)
        result.files[name] = out / f"{name}.parquet"
    if report:
        progress.start("report", None, "charts")
        from engine.replay.report_loop import closed_loop_report

        result.files |= closed_loop_report(result)
    manifest = {"kind": "closed_loop", "engine": result.engine, "policies": result.policies,
                "athletes": result.athletes,
                "seeds": result.seeds, "weeks": result.weeks, "seconds": round(result.seconds, 3),
                "files": {k: str(v.relative_to(out)) for k, v in result.files.items()}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    result.files["manifest"] = out / "manifest.json"
