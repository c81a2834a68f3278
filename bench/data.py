"""Benchmark data: simulated cohorts, cached as SQLite stores under bench/out/ (gitignored).

A cohort store is loaded the way live ingest would write it: one append per submission, with the
store's clock set to the submission's send time, so ``recorded_at`` (and therefore every decision
point) is what the live pipeline would have seen. Loading uses ``synchronous=OFF``: it is set-up,
not a measured figure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections import defaultdict
from pathlib import Path

import uuid

from engine.clock import ManualClock, to_micros
from engine.simulation import simulate_cohort
from engine.store.sqlite import SQLiteEventStore
from events import NewEvent
from events.codec import encode_payload

OUT = Path(os.environ.get("STRIDELINE_BENCH_OUT", Path(__file__).parent / "out"))
START = dt.date(2026, 1, 5)


def simulator_version() -> str:
    """A digest of the simulator's source: a cached cohort is reused only by the same simulator."""
    import engine.simulation
    digest = hashlib.blake2b(digest_size=4)
    for path in sorted(Path(engine.simulation.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cohort_store_path(athletes: int, weeks: int, seed: int, out: Path = OUT) -> Path:
    return out / f"cohort-{athletes}x{weeks}w-s{seed}-{simulator_version()}.sqlite3"


def remove_sqlite(path: Path | str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def load_cohort(athletes: int, weeks: int, seed: int = 1, out: Path = OUT, *, log=print) -> Path:
    """The cohort's store file, simulated and loaded once (later runs reuse it)."""
    path = cohort_store_path(athletes, weeks, seed, out)
    done = Path(str(path) + ".done")
    if path.exists() and done.exists():
        return path
    remove_sqlite(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    start_at = dt.datetime.combine(START, dt.time(), tzinfo=dt.timezone.utc)
    clock = ManualClock(start_at)
    store = SQLiteEventStore(path, clock=clock, synchronous="OFF")
    began, events, last_report = time.perf_counter(), 0, time.perf_counter()
    conn = store._conn()
    conn.execute("BEGIN IMMEDIATE")
    for n, submission in enumerate(simulate_cohort(athletes=athletes, weeks=weeks, seed=seed, start=START)):
        # Set-up only: many submissions per transaction through the store's own append logic
        # (each still gets its recorded_at from the clock), so loading millions of events is fast.
        clock.set(submission.send_at)
        evs = submission.events
        store._append_locked(conn, submission.athlete_id, evs, [e.event_id or uuid.uuid4() for e in evs],
                             [encode_payload(e.data) for e in evs], [to_micros(e.occurred_at) for e in evs],
                             None, None)
        events += len(evs)
        if n % 5000 == 4999:
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            log(f"  loading cohort: {events:,} events in {last_report - began:.0f} s")
    conn.execute("COMMIT")
    store.close()
    done.write_text(f"{events}\n")
    log(f"  cohort {athletes}x{weeks}w seed {seed}: {events:,} events loaded in "
        f"{time.perf_counter() - began:.1f} s -> {path}")
    return path


def cohort_submissions(athletes: int, weeks: int, seed: int = 1) -> dict[str, list[list[NewEvent]]]:
    """Each athlete's submissions (what its app sends at once, ~1.8 events on average), in order."""
    per_athlete: dict[str, list[list[NewEvent]]] = defaultdict(list)
    for submission in simulate_cohort(athletes=athletes, weeks=weeks, seed=seed, start=START):
        per_athlete[submission.athlete_id].append(submission.events)
    return dict(per_athlete)


def flatten(per_athlete: dict[str, list[list[NewEvent]]]) -> dict[str, list[NewEvent]]:
    return {a: [e for batch in batches for e in batch] for a, batches in per_athlete.items()}


def cohort_events(athletes: int, weeks: int, seed: int = 1) -> dict[str, list[NewEvent]]:
    """Each athlete's events in order (the input of the append benchmarks)."""
    return flatten(cohort_submissions(athletes, weeks, seed))


def take_events(per_athlete: dict, limit: int) -> dict:
    """Whole athletes, in order, until about ``limit`` events (events or submissions per athlete)."""
    out, n = {}, 0
    for athlete_id, items in per_athlete.items():
        if n >= limit:
            break
        out[athlete_id] = items
        n += sum(len(i) if isinstance(i, list) else 1 for i in items)
    return out


class Stopwatch:
    """Wall and CPU time of this process (every thread) since it was made: every figure is also
    given per CPU-second, which a shared machine's load moves less than the wall clock."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def figures(self, events: int) -> dict:
        seconds, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        return {"events": events, "seconds": round(seconds, 3), "events_per_s": round(events / seconds),
                "cpu_s": round(cpu, 3), "events_per_cpu_s": round(events / cpu) if cpu else None}
