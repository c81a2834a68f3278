"""PostgreSQL and SQLite side by side, in one run, on one simulated cohort.

    .venv/bin/python bench/postgres.py [--athletes 300] [--weeks 16] [--single 3000] [--url URL]

Figures, per backend:

* ``single``  - durable single-event appends through ``Ingestor.append`` (one transaction and one
  commit flush each: SQLite WAL ``synchronous=FULL``, PostgreSQL ``synchronous_commit=on``), one
  thread, on the first ``--single`` events of the cohort (whole athletes in order).
* ``batched`` - each athlete's events in batches of up to 1,000 (the API's limit) through
  ``Ingestor.append``, durable, one thread.
* ``replay``  - read + decode + fold + the baseline policy at every decision point
  (``engine.decisions.advance`` over ``store.read_stream`` per athlete, day boundaries up to the
  cohort's last send time), one process. "per CPU-s" counts this process's CPU only (PostgreSQL's
  server work is not in it). The recommendations' digest must be the same on both backends.

The replay store is loaded the way live ingest writes it (one append per submission, ``recorded_at``
= its send time) with relaxed durability, as set-up, not measured. PostgreSQL runs in schemas of its
own (``bench_<hex>_<part>``), dropped afterwards; SQLite in a temporary directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import msgspec
import psycopg

# Run as a script, this folder would come first on sys.path, and bench/http.py would shadow the
# standard library's http: put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from engine.clock import ManualClock  # noqa: E402
from engine.decisions import advance  # noqa: E402
from engine.ingest import Ingestor  # noqa: E402
from engine.policies.baseline import BaselinePolicy  # noqa: E402
from engine.simulation import simulate_cohort  # noqa: E402
from engine.store.factory import open_store  # noqa: E402
from projections.athlete import AthleteState  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 1000
_rec_encoder = msgspec.msgpack.Encoder(order="deterministic")


def _with_options(url: str, *options: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=" + "%20".join(f"-c{o.replace('=', '%3D')}" for o in options)


class Backends:
    """Fresh stores, by backend and part; cleans up PostgreSQL schemas and SQLite files."""

    def __init__(self, pg_url: str, workdir: Path) -> None:
        self.pg_url, self.workdir = pg_url, workdir
        self.tag = uuid.uuid4().hex[:8]
        self.schemas: list[str] = []

    def url(self, backend: str, part: str, *, durable: bool = True) -> str:
        if backend == "sqlite":
            path = self.workdir / f"{part}.sqlite3"
            return f"sqlite:///{path}" + ("" if durable else "?synchronous=OFF")
        schema = f"bench_{self.tag}_{part}"
        if schema not in self.schemas:
            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            self.schemas.append(schema)
        options = [f"search_path={schema}"] + ([] if durable else ["synchronous_commit=off"])
        return _with_options(self.pg_url, *options)

    def drop(self) -> None:
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def single(url: str, per_athlete: dict[str, list], limit: int) -> dict:
    store = open_store(url, migrate=True)
    ingest = Ingestor(store)
    n, began = 0, time.perf_counter()
    for athlete_id, events in per_athlete.items():
        if n >= limit:
            break
        for event in events:
            ingest.append(athlete_id, [event])
        n += len(events)
    seconds = time.perf_counter() - began
    store.close()
    return {"events": n, "seconds": seconds, "events_per_s": n / seconds}


def batched(url: str, per_athlete: dict[str, list]) -> dict:
    store = open_store(url, migrate=True)
    ingest = Ingestor(store)
    n, began = 0, time.perf_counter()
    for athlete_id, events in per_athlete.items():
        for start in range(0, len(events), BATCH):
            ingest.append(athlete_id, events[start:start + BATCH])
        n += len(events)
    seconds = time.perf_counter() - began
    store.close()
    return {"events": n, "seconds": seconds, "events_per_s": n / seconds}


def load_live(url: str, submissions: list) -> float:
    """Set-up: one append per submission at its send time (relaxed durability); seconds taken."""
    clock = ManualClock(submissions[0].send_at)
    store = open_store(url, clock, migrate=True)
    began = time.perf_counter()
    for sub in submissions:
        clock.set(sub.send_at)
        store.append(sub.athlete_id, sub.events)
    store.close()
    return time.perf_counter() - began


def replay(url: str, athletes: list[str], horizon: dt.datetime) -> dict:
    store = open_store(url)
    policy = BaselinePolicy()
    events = recs = 0
    digest = hashlib.sha256()
    began, cpu = time.perf_counter(), time.process_time()
    for athlete_id in athletes:
        envelopes = store.read_stream(athlete_id)
        events += len(envelopes)
        out = advance(AthleteState(athlete_id=athlete_id), envelopes, policy, horizon)
        recs += len(out)
        digest.update(_rec_encoder.encode(out))
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    store.close()
    return {"events": events, "recommendations": recs, "seconds": seconds, "events_per_s": events / seconds,
            "cpu_s": cpu, "events_per_cpu_s": events / cpu, "digest": digest.hexdigest()[:12]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--athletes", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--single", type=int, default=3000, help="events for the single-event figure")
    parser.add_argument("--url", default=os.environ.get("STRIDELINE_BENCH_POSTGRES_URL", DEFAULT_URL))
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}, load average {load_before[0]:.2f}")
    submissions = list(simulate_cohort(athletes=args.athletes, weeks=args.weeks, seed=args.seed))
    per_athlete: dict[str, list] = defaultdict(list)
    for sub in submissions:
        per_athlete[sub.athlete_id].extend(sub.events)
    total = sum(len(v) for v in per_athlete.values())
    horizon = submissions[-1].send_at
    print(f"cohort: {len(per_athlete)} athletes x {args.weeks} weeks, {total:,} events in "
          f"{len(submissions):,} submissions")

    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="strideline-bench-") as tmp:
        backends = Backends(args.url, Path(tmp))
        try:
            for backend in ("sqlite", "postgresql"):
                r = results[backend] = {}
                r["single"] = single(backends.url(backend, "single"), per_athlete, args.single)
                print(f"  {backend}: single {r['single']['events_per_s']:,.0f} events/s", flush=True)
                r["batched"] = batched(backends.url(backend, "batched"), per_athlete)
                print(f"  {backend}: batched {r['batched']['events_per_s']:,.0f} events/s", flush=True)
                url = backends.url(backend, "live", durable=False)
                loaded = load_live(url, submissions)
                print(f"  {backend}: replay store loaded in {loaded:.1f}s (set-up)", flush=True)
                r["replay"] = replay(url, list(per_athlete), horizon)
                print(f"  {backend}: replay {r['replay']['events_per_s']:,.0f} events/s", flush=True)
        finally:
            backends.drop()
    load_after = os.getloadavg()

    rows = [("single-event append (durable, Ingestor)", "single", "events_per_s"),
            ("batched append per athlete (<=1000)", "batched", "events_per_s"),
            ("replay: read+fold+baseline policy", "replay", "events_per_s"),
            ("replay per CPU-second (client)", "replay", "events_per_cpu_s")]
    print(f"\n| {'figure':<42} | {'SQLite':>10} | {'PostgreSQL':>10} | unit")
    print(f"|{'-' * 44}|{'-' * 12}|{'-' * 12}|------")
    for label, part, key in rows:
        print(f"| {label:<42} | {results['sqlite'][part][key]:>10,.0f} | "
              f"{results['postgresql'][part][key]:>10,.0f} | events/s")
    s, p = results["sqlite"]["replay"], results["postgresql"]["replay"]
    print(f"\nsingle: {results['sqlite']['single']['events']:,} events; batched and replay: {total:,} events; "
          f"replay recommendations {s['recommendations']:,} (digest {s['digest']}) on SQLite, "
          f"{p['recommendations']:,} (digest {p['digest']}) on PostgreSQL")
    print(f"load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"(1/5/15 min after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f})")
    if s["digest"] != p["digest"]:
        print("ERROR: the two backends' replays differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
