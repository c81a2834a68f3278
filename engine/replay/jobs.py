"""The replay job a worker process runs: one partition of athletes, streamed from the store.

A partition is the set of athletes whose stable hash falls in it. The worker opens the store
itself, reads each athlete's stream in chunks (never the whole log), replays it under every policy,
and writes its rows to part files; only per-athlete row counts and outcome rows go back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.clock import from_micros
from engine.policies.base import Policy
from engine.replay.core import replay_athlete
from engine.replay.diff import disagreements
from engine.replay.policies import PolicySpec
from engine.replay.pool import on_worker_start, report
from engine.replay.source import READ_CHUNK, read_athlete
from engine.replay.tables import RECOMMENDATION_SCHEMA, PartWriter, diff_schema, recommendation_row
from engine.store.base import EventStore
from engine.store.factory import open_store

REPORT_EVERY = 2000


def partition_of(athlete_id: str, partitions: int) -> int:
    """A stable partition (the same in every process and run, unlike ``hash``)."""
    digest = hashlib.blake2b(athlete_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


@dataclass(frozen=True)
class ReplayJob:
    url: str
    part: int
    athletes: tuple[str, ...]
    policies: tuple[tuple[str, PolicySpec], ...]
    horizon_us: int
    part_dir: str
    diff: bool = True
    chunk: int = READ_CHUNK


@dataclass
class ReplayPart:
    part: int
    recommendations: list[tuple[Path, list[tuple[str, int]]]]
    """Per policy: (part file, [(athlete, rows)])."""
    diff: tuple[Path, list[tuple[str, int]]] | None
    metrics: list[list[dict]]
    """Per policy: one outcome row per athlete."""
    events: int
    athletes: int
    payload: dict[str, bytes] | None = None
    """The part files' bytes, when the job ran on another machine (see ``run_replay_job_shipped``)."""


_stores: dict[str, EventStore] = {}
_policies: dict[str, list[tuple[str, Policy]]] = {}


def _reset() -> None:
    _stores.clear()  # the parent's connections must not be used after a fork
    _policies.clear()


on_worker_start(_reset)


def _store(url: str) -> EventStore:
    if url not in _stores:
        _stores[url] = open_store(url)
    return _stores[url]


def _loaded(specs: tuple[tuple[str, PolicySpec], ...]) -> list[tuple[str, Policy]]:
    key = repr(specs)  # overrides may hold lists: not hashable, but their repr is stable
    if key not in _policies:
        _policies[key] = [(label, spec.load()) for label, spec in specs]
    return _policies[key]


def run_replay_job(job: ReplayJob) -> ReplayPart:
    store = _store(job.url)
    policies = _loaded(job.policies)
    labels = [label for label, _ in policies]
    horizon = from_micros(job.horizon_us)
    part_dir = Path(job.part_dir)
    writers = [PartWriter(part_dir / f"recs-{i:03d}-{job.part:05d}.parquet", RECOMMENDATION_SCHEMA)
               for i in range(len(policies))]
    diff_writer = PartWriter(part_dir / f"diff-{job.part:05d}.parquet", diff_schema(labels)) \
        if job.diff and len(policies) > 1 else None
    metrics: list[list[dict]] = [[] for _ in policies]
    events = athletes = unreported = unreported_athletes = 0
    for athlete_id in job.athletes:
        counted = _Counted(read_athlete(store, athlete_id, horizon, job.chunk))
        lanes = replay_athlete(athlete_id, counted, policies, horizon)
        events += counted.n
        unreported += counted.n
        unreported_athletes += 1
        if not lanes:
            continue
        athletes += 1
        for i, (lane, row) in enumerate(lanes):
            writers[i].add_athlete(athlete_id, [recommendation_row(labels[i], r) for r in lane.recommendations])
            metrics[i].append({"policy": labels[i]} | row)
        if diff_writer is not None:
            diff_writer.add_athlete(athlete_id, disagreements(athlete_id, labels,
                                                              [lane.recommendations for lane, _ in lanes]))
        if unreported >= REPORT_EVERY:
            report(unreported, unreported_athletes)
            unreported = unreported_athletes = 0
    report(unreported, unreported_athletes)
    return ReplayPart(job.part, [(w.path, w.close()) for w in writers],
                      None if diff_writer is None else (diff_writer.path, diff_writer.close()),
                      metrics, events, athletes)


class _Counted:
    __slots__ = ("it", "n")

    def __init__(self, it) -> None:
        self.it, self.n = it, 0

    def __iter__(self):
        for item in self.it:
            self.n += 1
            yield item


def run_replay_job_shipped(job: ReplayJob) -> ReplayPart:
    """The job in a scratch directory of the machine that runs it (a Ray node); the part files
    travel back as bytes in the result, so the driver needs no disk shared with the cluster."""
    with tempfile.TemporaryDirectory(prefix="strideline-part-") as scratch:
        part = run_replay_job(dataclasses.replace(job, part_dir=scratch))
        part.payload = {p.name: p.read_bytes() for p in Path(scratch).iterdir()}
    return part


def land_part(part: ReplayPart, part_dir: Path) -> ReplayPart:
    """Write a shipped part's files into ``part_dir`` and point the part at them."""
    if part.payload is None:
        return part
    for name, data in part.payload.items():
        (part_dir / name).write_bytes(data)
    part.recommendations = [(part_dir / Path(path).name, counts) for path, counts in part.recommendations]
    if part.diff is not None:
        part.diff = (part_dir / Path(part.diff[0]).name, part.diff[1])
    part.payload = None
    return part
