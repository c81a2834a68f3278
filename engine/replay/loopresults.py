"""Closed-loop orchestration: jobs across processes, outcomes per seed, intervals, files, report.

Output directory:

* ``closed_loop_athletes.parquet|csv`` - one outcome row per (policy, seed, athlete);
* ``closed_loop_seeds.parquet|csv`` - the cohort's outcome metrics per (policy, seed);
* ``closed_loop.parquet|csv`` - per policy and metric: mean across seeds, sd, 95% t-interval; and,
  for every policy after the first, the paired difference to the first (``comparison`` column);
* ``report.html``, ``charts/closed_loop.png``, ``manifest.json``.
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
from engine.replay.errors import ReplayError
from engine.replay.policies import PolicySpec, load_all, parse_policy
from engine.replay.pool import run_jobs
from engine.replay.progress import NullProgress
from engine.replay.summary import interval, summarise


@dataclass
class ClosedLoopResult:
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

    def interval(self, policy: str, metric: str, comparison: str = "") -> dict:
        for row in self.intervals:
            if row["policy"] == policy and row["metric"] == metric and row["comparison"] == comparison:
                return row
        raise KeyError((policy, metric, comparison))


def simulate(policies: Sequence[PolicySpec | str], athletes: int, seeds: int = 5, *, weeks: int = 16,
             first_seed: int = 1, start: dt.date | None = None, out_dir=None, workers: int = 1,
             report: bool = True, csv: bool = True, progress=None) -> ClosedLoopResult:
    """The same simulated cohort (``athletes`` x ``seeds``) under each policy, compared."""
    from engine.replay.backtest import describe
    from engine.simulation.cohort import DEFAULT_START

    if athletes < 1 or seeds < 1 or weeks < 1:
        raise ReplayError("athletes, seeds and weeks must be at least 1")
    progress = progress or NullProgress()
    loaded = load_all([p if isinstance(p, PolicySpec) else parse_policy(p) for p in policies])
    specs = tuple((p.label, p.spec) for p in loaded)
    start = start or DEFAULT_START
    seed_list = list(range(first_seed, first_seed + seeds))
    per_seed_jobs = max(1, math.ceil(workers * 4 / seeds)) if workers > 1 else 1
    chunk = math.ceil(athletes / per_seed_jobs)
    jobs = [LoopJob(specs, seed, start, weeks, tuple(range(i, min(athletes, i + chunk))))
            for seed in seed_list for i in range(0, athletes, chunk)]
    began = time.perf_counter()
    progress.start("simulating", athletes * seeds * len(specs), "athlete runs")
    results = run_jobs(run_loop_job, jobs, workers, lambda e, a: progress.advance(a))
    labels = [label for label, _ in specs]
    rows = [row for i in range(len(labels)) for part in results for row in part[i]]
    rows.sort(key=lambda r: (labels.index(r["policy"]), r["seed"], r["index"]))
    per_seed = []
    for label in labels:
        for seed in seed_list:
            cohort = [r for r in rows if r["policy"] == label and r["seed"] == seed]
            per_seed.append({"seed": seed} | summarise(label, cohort))
    result = ClosedLoopResult(describe(loaded), athletes, seed_list, weeks, time.perf_counter() - began,
                              per_seed, _intervals(labels, per_seed), rows)
    if out_dir is not None:
        _write(result, Path(out_dir), csv, report, progress)
    return result


def _intervals(labels: list[str], per_seed: list[dict]) -> list[dict]:
    out = []
    by = {(r["policy"], r["seed"]): r for r in per_seed}
    seeds = sorted({r["seed"] for r in per_seed})
    for label in labels:
        for metric, _ in CLOSED_LOOP_METRICS:
            values = [by[(label, s)][metric] for s in seeds]
            out.append({"policy": label, "comparison": "", "metric": metric} | _named(interval(values)))
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
                       ("closed_loop", result.intervals)):
        write_table(rows, None, out / f"{name}.parquet", out / f"{name}.csv" if csv else None)
        result.files[name] = out / f"{name}.parquet"
    if report:
        progress.start("report", None, "charts")
        result.files |= closed_loop_report(result)
    manifest = {"kind": "closed_loop", "policies": result.policies, "athletes": result.athletes,
                "seeds": result.seeds, "weeks": result.weeks, "seconds": round(result.seconds, 3),
                "files": {k: str(v.relative_to(out)) for k, v in result.files.items()}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    result.files["manifest"] = out / "manifest.json"


def closed_loop_report(result: ClosedLoopResult) -> dict[str, Path]:
    import html

    from engine.replay.report import html_table, metric_bars, write_report

    labels = [p["label"] for p in result.policies]
    means, errors, table = [], {}, []
    for label in labels:
        rows = {r["metric"]: r for r in result.intervals if r["policy"] == label and not r["comparison"]}
        means.append({"policy": label} | {m: rows[m]["mean"] for m, _ in CLOSED_LOOP_METRICS})
        errors[label] = {m: (rows[m]["low"], rows[m]["high"]) for m, _ in CLOSED_LOOP_METRICS}
    for row in result.intervals:
        table.append({"policy": row["policy"], "comparison": row["comparison"], "metric": row["metric"],
                      "mean": row["mean"], "95% low": row["low"], "95% high": row["high"], "seeds": row["seeds"]})
    intro = (f"<p>{result.athletes} simulated athletes x {len(result.seeds)} seeds "
             f"({html.escape(', '.join(map(str, result.seeds)))}), {result.weeks} weeks, run in "
             f"{result.seconds:,.1f} s. Intervals: mean &plusmn; t<sub>0.975, K-1</sub> &middot; sd / &radic;K "
             f"across seeds; differences are paired by seed.</p>")
    chart = metric_bars(means, CLOSED_LOOP_METRICS, errors)
    return write_report(result.out_dir, "Strideline closed-loop evaluation", intro,
                        [("Policies", html_table([{k: v for k, v in p.items()} for p in result.policies])),
                         ("Outcomes across seeds (95% intervals)", html_table(table))],
                        [("closed_loop", "Outcomes by policy, mean across seeds with 95% intervals", chart)])
