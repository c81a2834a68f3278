"""Replay throughput and memory on a simulated cohort: ``python -m engine.replay.benchmark``.

    python -m engine.replay.benchmark generate --store /tmp/strideline-bench/cohort.sqlite3 --athletes 2400 --weeks 16
    python -m engine.replay.benchmark run --store /tmp/strideline-bench/cohort.sqlite3 --workers 1 2

``generate`` streams the simulated cohort into a SQLite file (``recorded_at`` = each submission's
send time, as live ingest would record it) through ``import_envelopes``. ``run`` replays the file
once per worker count, each in a fresh subprocess so that peak RSS (``ru_maxrss`` of the parent and
of the largest worker) belongs to that run alone, and prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def generate(path: Path, athletes: int, weeks: int, seed: int = 1) -> int:
    from engine.simulation import simulate_cohort
    from engine.store.sqlite import SQLiteEventStore
    from events import Envelope

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    versions: dict[str, int] = {}

    def envelopes():
        position = 0
        for submission in simulate_cohort(athletes=athletes, weeks=weeks, seed=seed):
            for event in submission.events:
                position += 1
                version = versions[submission.athlete_id] = versions.get(submission.athlete_id, 0) + 1
                yield Envelope(event_id=event.event_id, stream=submission.athlete_id, version=version,
                               position=position, occurred_at=event.occurred_at, recorded_at=submission.send_at,
                               data=event.data, source=event.source)

    store = SQLiteEventStore(path, synchronous="OFF")
    try:
        return store.import_envelopes(envelopes())
    finally:
        store.close()


def measure(store: str, workers: int, policies: int, out: Path, report: bool) -> dict:
    from engine.replay import PolicySpec, replay

    base = "engine.policies.baseline:BaselinePolicy"
    specs = [PolicySpec(base)] + [PolicySpec(base, overrides=(("run.weekly_step", 0.1 + 0.05 * i),),
                                             label=f"step{i}") for i in range(1, policies)]
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    result = replay(store, specs, out, workers=workers, report=report)
    seconds = time.perf_counter() - began
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    kib = 1024 if sys.platform != "darwin" else 1  # ru_maxrss: KiB on Linux, bytes on macOS
    return {"workers": workers, "policies": policies, "events": result.events, "athletes": result.athletes,
            "seconds": round(seconds, 2), "events_per_s": round(result.events / seconds),
            "cpu_seconds": round(cpu, 1), "events_per_cpu_s": round(result.events / cpu),
            "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
            "peak_rss_parent_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kib / 2**20, 1),
            "peak_rss_worker_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kib / 2**20, 1),
            "recommendations": sum(result.metrics.column("recommendations").to_pylist())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m engine.replay.benchmark")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--store", type=Path, required=True)
    gen.add_argument("--athletes", type=int, default=2400)
    gen.add_argument("--weeks", type=int, default=16)
    gen.add_argument("--seed", type=int, default=1)
    run = sub.add_parser("run")
    run.add_argument("--store", required=True)
    run.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    run.add_argument("--policies", type=int, default=1)
    run.add_argument("--out", type=Path, default=Path("/tmp/strideline-bench/replay-out"))
    run.add_argument("--report", action="store_true")
    one = sub.add_parser("one")  # a single measured run (what `run` spawns)
    one.add_argument("--store", required=True)
    one.add_argument("--workers", type=int, required=True)
    one.add_argument("--policies", type=int, default=1)
    one.add_argument("--out", type=Path, required=True)
    one.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "generate":
        began = time.perf_counter()
        count = generate(args.store, args.athletes, args.weeks, args.seed)
        print(json.dumps({"events": count, "athletes": args.athletes, "weeks": args.weeks,
                          "seconds": round(time.perf_counter() - began, 1), "store": str(args.store),
                          "bytes": args.store.stat().st_size, "at": dt.datetime.now().isoformat()}))
    elif args.command == "run":
        for workers in args.workers:
            cmd = [sys.executable, "-m", "engine.replay.benchmark", "one", "--store", args.store,
                   "--workers", str(workers), "--policies", str(args.policies),
                   "--out", str(args.out / f"w{workers}-p{args.policies}")] + (["--report"] if args.report else [])
            subprocess.run(cmd, check=True)
    else:
        print(json.dumps(measure(args.store, args.workers, args.policies, args.out, args.report)), flush=True)


if __name__ == "__main__":
    main()
