"""`replay`: a store or an exported log under one or more policies, as analysts' tables.

The log is replayed athlete by athlete with ``engine.decisions.advance`` (the live mechanism), as of
a horizon (default: the last ``recorded_at`` in the log): events recorded after it are not read, and
day boundaries are evaluated up to it. Athletes are split into partitions by a stable hash; each
partition is a job a worker process runs against the store on its own. Output directory:

* ``recommendations_<policy>.parquet|csv`` - every recommendation of each policy;
* ``diff.parquet|csv`` - where policies disagree, aligned by (athlete, decision time, topic);
* ``athlete_metrics.parquet|csv`` - outcome metrics per (policy, athlete);
* ``metrics.parquet|csv`` - outcome metrics per policy;
* ``report.html`` (self-contained) and ``charts/*.png``; ``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.clock import to_micros
from engine.replay.engines import Engine, as_engine
from engine.replay.errors import ReplayError
from engine.replay.jobs import ReplayJob, land_part, partition_of, run_replay_job, run_replay_job_shipped
from engine.replay.policies import LoadedPolicy, PolicySpec, load_all, parse_policy, slug
from engine.replay.progress import ProgressSink, progress_sink
from engine.replay.source import athlete_streams, last_recorded_at, open_source
from engine.replay.summary import summarise
from engine.replay.tables import RECOMMENDATION_SCHEMA, diff_schema, merge_parts, write_table


@dataclass
class ReplayResult:
    """What a replay wrote (``files``) and its outcome metrics; ``to_polars()`` gives a DataFrame."""

    out_dir: Path
    horizon: dt.datetime
    policies: list[dict]
    athletes: int
    events: int
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)
    metrics: object = None
    """pyarrow Table: one row of outcome metrics per policy."""
    athlete_metrics: object = None
    """pyarrow Table: one row per (policy, athlete)."""
    comparison: list[dict] = field(default_factory=list)
    """Paired differences to the reference policy, with 95% bootstrap intervals (``compare``)."""
    engine: str = "local"

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def labels(self) -> list[str]:
        return [p["label"] for p in self.policies]

    def recommendations(self, label: str):
        """One policy's recommendations as a pyarrow Table (``polars.from_arrow`` or ``.to_pandas()``)."""
        import pyarrow.parquet as pq

        key = f"recommendations:{label}"
        if key not in self.files:
            raise KeyError(f"no policy labelled {label!r}; labels: {self.labels}")
        return pq.read_table(self.files[key])

    def diff(self):
        """The disagreement table (pyarrow), or None with one policy."""
        import pyarrow.parquet as pq

        return pq.read_table(self.files["diff"]) if "diff" in self.files else None

    def to_polars(self, table: str = "metrics"):
        """A polars DataFrame of ``metrics`` (default), ``athlete_metrics``, ``comparison``,
        ``diff`` or ``recommendations:<label>``."""
        import polars as pl

        if table == "comparison":
            return pl.DataFrame(self.comparison)
        if table in ("metrics", "athlete_metrics"):
            return pl.from_arrow(getattr(self, table))
        if table == "diff":
            return pl.from_arrow(self.diff())
        if table.startswith("recommendations:"):
            return pl.from_arrow(self.recommendations(table.partition(":")[2]))
        raise KeyError(f"no table {table!r}: metrics, athlete_metrics, comparison, diff, recommendations:<label>")

    def recommendation_digest(self) -> str:
        """sha256 over every policy's recommendations (ids and content, in output order): equal
        digests mean the same advice, whichever engine or worker count produced it."""
        return recommendation_digest(self.files[f"recommendations:{label}"] for label in self.labels)


def recommendation_digest(paths) -> str:
    import pyarrow.parquet as pq

    digest = hashlib.sha256()
    columns = ["policy", "athlete_id", "recommendation_id", "decision_time", "kind", "topic", "rule_id", "target"]
    for path in paths:
        for batch in pq.ParquetFile(path).iter_batches(columns=columns):
            for row in zip(*(batch.column(c).to_pylist() for c in columns)):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def _specs(policies: Sequence[PolicySpec | str]) -> list[PolicySpec]:
    return [p if isinstance(p, PolicySpec) else parse_policy(p) for p in policies]


def describe(loaded: Sequence[LoadedPolicy]) -> list[dict]:
    return [{"label": p.label, "spec": p.spec.spec, "config": p.spec.config,
             "overrides": {k: v for k, v in p.spec.overrides}, "name": str(getattr(p.policy, "name", "")),
             "version": str(getattr(p.policy, "version", ""))} for p in loaded]


def replay(source: str | Path, policies: Sequence[PolicySpec | str], out_dir: str | Path, *,
           horizon: dt.datetime | None = None, workers: int = 1, partitions: int | None = None,
           diff: bool = True, report: bool = True, csv: bool = True, reference: str | None = None,
           engine: Engine | str = "local", ray_address: str | None = None,
           progress: ProgressSink | bool | None = None) -> ReplayResult:
    """Replay a recorded log under each policy, as the live engine would have decided.

    source: a store URL or SQLite path, or an exported ``.jsonl``/``.parquet`` log.
    policies: ``PolicySpec`` objects or ``"[label=]module:attr[@config.toml]"`` strings.
    out_dir: where the tables (Parquet and CSV), ``report.html`` and ``manifest.json`` go.
    horizon: the "as of" time (timezone-aware; default: the log's last ``recorded_at``).
    workers: local worker processes; partitions: athlete partitions (default 4 per worker).
    reference: the label the others are compared with (default: the first policy).
    engine: ``"local"`` (process pool) or ``"ray"`` (``ray_address``, else RAY_ADDRESS, else a
    local Ray cluster). progress: ``True`` for progress bars on stderr.
    Returns a ``ReplayResult``; ``result.to_polars()`` is the metrics table as a DataFrame.
    """
    engine = as_engine(engine, ray_address)
    loaded = load_all(_specs(policies))
    if horizon is not None and horizon.tzinfo is None:
        raise ReplayError("the horizon must be timezone-aware")
    labels = [p.label for p in loaded]
    if reference is not None and reference not in labels:
        raise ReplayError(f"no policy labelled {reference!r} to compare with; labels: {labels}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with progress_sink(progress) as sink:
        if _is_file(source):
            sink.start("importing", None)
        src = open_source(source, progress=sink.advance)
        try:
            store = src.open()
            streams = athlete_streams(store)
            horizon = horizon or last_recorded_at(store)
            store.close()
            if horizon is None:
                raise ReplayError(f"{src.description}: the log is empty")
            result = _run(src.url, loaded, streams, horizon, out, workers, partitions, diff, csv, sink, engine)
        finally:
            src.close()
        result.seconds = time.perf_counter() - began
        result.policies = describe(loaded)
        result.engine = engine.name
        from engine.replay.compare import compare_replay

        result.comparison = compare_replay(result.athlete_metrics.to_pylist(), labels, reference or labels[0])
        if result.comparison:
            from engine.replay.tables import write_table

            write_table(result.comparison, None, out / "comparison.parquet", out / "comparison.csv" if csv else None)
            result.files["comparison"] = out / "comparison.parquet"
        if report:
            from engine.replay.report_replay import replay_report

            sink.start("report", None, "charts")
            result.files |= replay_report(result, src.description)
    _manifest(result, src.description)
    return result


def _is_file(source) -> bool:
    from engine.replay.logio import is_log_file

    return is_log_file(source)


def _run(url: str, loaded: Sequence[LoadedPolicy], streams: list[tuple[str, int]], horizon: dt.datetime,
         out: Path, workers: int, partitions: int | None, diff: bool, csv: bool,
         progress: ProgressSink, engine: Engine) -> ReplayResult:
    slots = engine.slots(workers)
    count = partitions or (1 if slots <= 1 else slots * 4)
    count = max(1, min(count, len(streams) or 1))
    groups: list[list[str]] = [[] for _ in range(count)]
    for athlete_id, _ in streams:
        groups[partition_of(athlete_id, count)].append(athlete_id)
    part_dir = out / "_parts"
    shutil.rmtree(part_dir, ignore_errors=True)
    part_dir.mkdir(parents=True)
    specs = tuple((p.label, p.spec) for p in loaded)
    jobs = [ReplayJob(url, i, tuple(g), specs, to_micros(horizon), str(part_dir), diff)
            for i, g in enumerate(groups) if g]
    progress.start("replaying", sum(v for _, v in streams))
    try:
        if engine.is_local:
            parts = engine.run(run_replay_job, jobs, workers, lambda e, a: progress.advance(e))
        else:
            parts = [land_part(p, part_dir) for p in
                     engine.run(run_replay_job_shipped, jobs, workers, lambda e, a: progress.advance(e))]
    except BaseException:
        shutil.rmtree(part_dir, ignore_errors=True)
        raise
    labels = [p.label for p in loaded]
    result = ReplayResult(out, horizon, [], sum(p.athletes for p in parts), sum(p.events for p in parts), 0.0)
    progress.start("writing", len(labels) + 2, "tables")
    for i, label in enumerate(labels):
        name = f"recommendations_{slug(label)}"
        merge_parts([p.recommendations[i] for p in parts if p.recommendations[i][1]], RECOMMENDATION_SCHEMA,
                    out / f"{name}.parquet", out / f"{name}.csv" if csv else None)
        result.files[f"recommendations:{label}"] = out / f"{name}.parquet"
        progress.advance(1)
    if diff and len(labels) > 1:
        merge_parts([p.diff for p in parts if p.diff and p.diff[1]], diff_schema(labels),
                    out / "diff.parquet", out / "diff.csv" if csv else None)
        result.files["diff"] = out / "diff.parquet"
    progress.advance(1)
    per_policy = [sorted((row for p in parts for row in p.metrics[i]), key=lambda r: r["athlete_id"])
                  for i in range(len(labels))]
    result.athlete_metrics = write_table([r for rows in per_policy for r in rows], None,
                                         out / "athlete_metrics.parquet", out / "athlete_metrics.csv" if csv else None)
    result.metrics = write_table([summarise(label, rows) for label, rows in zip(labels, per_policy)], None,
                                 out / "metrics.parquet", out / "metrics.csv" if csv else None)
    result.files |= {"athlete_metrics": out / "athlete_metrics.parquet", "metrics": out / "metrics.parquet"}
    progress.advance(1)
    shutil.rmtree(part_dir, ignore_errors=True)
    return result


def _manifest(result: ReplayResult, source: str) -> None:
    manifest = {"kind": "replay", "source": source, "horizon": result.horizon.isoformat(),
                "policies": result.policies, "athletes": result.athletes, "events": result.events,
                "seconds": round(result.seconds, 3), "engine": result.engine,
                "recommendation_digest": result.recommendation_digest(),
                "files": {k: str(v.relative_to(result.out_dir)) for k, v in result.files.items()}}
    path = result.out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    result.files["manifest"] = path
