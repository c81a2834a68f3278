"""`strideline demo`: a simulated cohort through the in-process pipeline, then a readable summary.

The simulated clock drives the store's ``recorded_at``; at each simulated midnight every athlete is
ticked (what the sweeper does live), so time-based rules such as drop-off flags fire on the way.
"""

from __future__ import annotations

import collections
import datetime as dt
import heapq
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from engine import pipeline
from engine.pipeline import ResidentStates
from engine.clock import ManualClock
from projections.calendar import zone as local_zone
from engine.runtime import build_runtime
from engine.store.sqlite import SQLiteEventStore
from engine.advice import apply as apply_advice
from engine.simulation.cohort import Submission
from events import recommendation_stream
from events.vocabulary import RecommendationIssued, RecommendationWithdrawn
from projections.athlete import AthleteState
from projections.calendar import day_start

STORE_SYNCHRONOUS = "OFF"
"""The demo's store is throwaway (deleted and rebuilt by every run, nothing in it exists anywhere
else), so it is opened with ``synchronous=OFF``: SQLite hands each commit to the OS without an
fsync. A power cut mid-run may lose or corrupt it; rerunning the demo rebuilds it. A process crash
loses nothing committed (the OS has the pages). Real stores keep ``FULL`` (engine.store.sqlite)."""

SNAPSHOT_EVERY, SNAPSHOT_AFTER_S = 1000, 30.0
"""The demo's projector saves an athlete's state every 1,000 events or 30 s (and at the end)."""

DROP_OFF_NAMES = {
    "dropoff.1_exit_at_pain_relief": "1 exit at pain relief",
    "dropoff.2_exit_before_strength": "2 exit before real strength",
    "dropoff.3_intensity_too_early": "3 intensity too early",
    "dropoff.4_strength_dropped": "4 strength dropped after return",
    "adherence.no_logs": "no logs for days",
}


class DemoResult(msgspec.Struct):
    athletes: int
    events: int
    recommendations: int
    """Advice issued (withdrawals are counted apart)."""
    seconds: float
    store_path: str
    end: dt.datetime
    withdrawals: int = 0


def _simulator():
    try:
        from engine.simulation import cohort_size_hint, simulate_cohort
    except ImportError:  # the single-module layout
        from engine.simulator import cohort_size_hint, simulate_cohort  # type: ignore[no-redef]
    return simulate_cohort, cohort_size_hint


def coached_cohort(athletes: int, weeks: int, seed: int, start: dt.date,
                   advice_for: Callable[[str], object | None]) -> Iterator[Submission]:
    """The cohort's submissions in send order, each athlete living each local day under the advice
    in force at its local midnight (``advice_for(athlete_id)``, read from the live pipeline): a
    coached cohort, whose athletes follow the engine's phase and targets with their own
    probability, or keep their habits (the simulator's closed loop, through the real pipeline).

    Lazy on purpose: the consumer appends each submission before asking for the next, so the advice
    read at a wake-up reflects everything sent before it."""
    from engine.simulation import make_athlete

    end = start + dt.timedelta(weeks=weeks)
    cohort = [make_athlete(i, seed, start) for i in range(athletes)]
    heap: list[tuple] = []  # (instant, order, kind, index, payload): wake-ups and sends
    order = itertools.count()
    for index, athlete in enumerate(cohort):
        wake = day_start(athlete.enrolled_on.toordinal(), athlete.profile.time_zone)
        heapq.heappush(heap, (wake, next(order), "wake", index, athlete.enrolled_on))
    while heap:
        instant, _, kind, index, payload = heapq.heappop(heap)
        athlete = cohort[index]
        if kind == "send":
            yield Submission(instant, athlete.athlete_id, payload)
            continue
        date = payload
        if date >= end or athlete.quit:
            continue
        advice = advice_for(athlete.athlete_id) if date > athlete.enrolled_on else None
        for send_at, events in athlete.day_batches(date, advice):
            heapq.heappush(heap, (send_at, next(order), "send", index, events))
        following = date + dt.timedelta(days=1)
        heapq.heappush(heap, (day_start(following.toordinal(), athlete.profile.time_zone), next(order), "wake",
                              index, following))


class _AdviceReader:
    """The simulator's view of the advice in force: the athlete's state as the projector holds it
    (``state_of``) and the recommendations, read incrementally from the store."""

    def __init__(self, store: SQLiteEventStore, drain: Callable[[], None],
                 state_of: Callable[[str], AthleteState | None]) -> None:
        from engine.replay.closedloop import advice_from

        self.store, self.drain, self.state_of, self.to_simulator = store, drain, state_of, advice_from
        self.seen: dict[str, int] = {}
        self.in_force: dict[str, dict] = {}

    def __call__(self, athlete_id: str):
        self.drain()  # the projector has decided everything sent so far
        state = self.state_of(athlete_id)
        if state is None or not state.profile.enrolled:
            return None
        in_force = self.in_force.setdefault(athlete_id, {})
        stream = recommendation_stream(athlete_id)
        for envelope in self.store.read_stream(stream, self.seen.get(athlete_id, 0) + 1):
            apply_advice(in_force, envelope.data)
            self.seen[athlete_id] = envelope.version
        return self.to_simulator(state, {t: r for t, r in in_force.items() if t != "phase"})


def _held_states(store: SQLiteEventStore, states: ResidentStates, policy) -> Callable[[str], AthleteState | None]:
    """An athlete's current state, read from the projector's states in memory (the demo's
    pipeline defers snapshots, so the store's may be behind). Called between drains, when no
    worker is busy; an athlete not held (never expected in one process) is re-folded from its
    snapshot, as its next wake-up would do."""

    def state_of(athlete_id: str) -> AthleteState | None:
        for _ in range(2):
            durable = store.projection_checkpoint(athlete_id, pipeline.PROJECTION)
            if durable is None:
                return None  # not projected yet: not enrolled
            with states.hold(athlete_id):
                entry = states.take(athlete_id, durable)
                if entry is not None:
                    states.put(athlete_id, entry)
                    return entry.state
            pipeline.project_athlete(store, athlete_id, policy, resident=states)
        raise RuntimeError(f"the projector holds no state for {athlete_id}")

    return state_of


def run_demo(*, athletes: int, weeks: int, seed: int, store_path: Path, threads: int,
             start: dt.date, progress=None, coached: bool = True) -> DemoResult:
    """Simulate the cohort into a fresh SQLite store through the in-process pipeline; ``coached``
    athletes live each day under the advice in force (else their own habits only: open loop)."""
    from workers import context  # the shell layer, wired only here
    from workers.inprocess import InProcessPipeline

    simulate_cohort, size_hint = _simulator()
    for suffix in ("", "-wal", "-shm"):
        Path(str(store_path) + suffix).unlink(missing_ok=True)
    start_at = dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone.utc)
    clock = ManualClock(start_at)
    store = SQLiteEventStore(store_path, clock=clock, synchronous=STORE_SYNCHRONOUS)
    runtime = build_runtime(store=store, clock=clock)
    runtime.settle_margin = dt.timedelta(0)  # simulated time: nothing is in flight
    began = time.perf_counter()
    events = 0
    task = progress.add_task("simulating", total=size_hint(athletes, weeks)) if progress else None
    live = InProcessPipeline(runtime, threads=threads)
    # The pipeline as the workers run it, states held in memory; snapshots deferred (the in-process
    # default saves one at every wake-up, for readers of the store: the demo reads the states held)
    # and all saved when the pipeline stops. Every athlete stays held: no re-fold from a snapshot.
    states = ResidentStates(capacity=athletes + 16, snapshot_every=SNAPSHOT_EVERY, snapshot_after_s=SNAPSHOT_AFTER_S)
    context.set_resident(states)
    with live:
        today = start_at.date()
        reader = _AdviceReader(store, live.drain, _held_states(store, states, runtime.policy))
        submissions = coached_cohort(athletes, weeks, seed, start, reader) if coached \
            else simulate_cohort(athletes=athletes, weeks=weeks, seed=seed, start=start)
        for submission in submissions:
            if submission.send_at.date() != today:
                clock.set(dt.datetime.combine(submission.send_at.date(), dt.time(), tzinfo=dt.timezone.utc))
                live.tick_all()
                today = submission.send_at.date()
            clock.set(submission.send_at)
            runtime.ingestor.append(submission.athlete_id, submission.events)
            events += len(submission.events)
            if progress:
                progress.update(task, advance=len(submission.events))
        end = dt.datetime.combine(start + dt.timedelta(weeks=weeks), dt.time(), tzinfo=dt.timezone.utc)
        clock.set(end)
        end = clock.now()  # the simulator's last sends may fall after the last week's midnight
        live.tick_all()
        live.drain()
    states.flush(store, everything=True)  # (the workers' shutdown saved them already; this is a no-op then)
    streams = [pipeline.recommendations(store, a) for a in pipeline.athletes(store)]
    issued = sum(1 for recs in streams for r in recs if isinstance(r, RecommendationIssued))
    result = DemoResult(len(streams), events, issued, time.perf_counter() - began, str(store_path), end,
                        withdrawals=sum(len(recs) for recs in streams) - issued)
    store.close()
    return result


def summarise(store: SQLiteEventStore, end: dt.datetime, timelines: int = 3) -> dict:
    """Athletes per phase, drop-off flags by point, recommendations by kind, withdrawals by reason,
    a few timelines."""
    phases: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    withdrawn: collections.Counter[str] = collections.Counter()
    dropoffs: collections.Counter[str] = collections.Counter()
    flagged: dict[str, set[str]] = collections.defaultdict(set)
    rules: collections.Counter[str] = collections.Counter()
    stories = []
    for athlete_id in pipeline.athletes(store):
        state, _ = pipeline.load_state(store, athlete_id)
        phases[state.phase.phase] += 1
        recs = pipeline.recommendations(store, athlete_id)
        for rec in recs:
            if isinstance(rec, RecommendationWithdrawn):
                withdrawn[str(rec.reason)] += 1
                continue
            kinds[rec.kind] += 1
            rules[rec.rule_id] += 1
            if rec.rule_id in DROP_OFF_NAMES:
                dropoffs[DROP_OFF_NAMES[rec.rule_id]] += 1
                flagged[DROP_OFF_NAMES[rec.rule_id]].add(athlete_id)
        stories.append((len(state.phase.changes), athlete_id, state, recs))
    stories.sort(key=lambda s: (-s[0], s[1]))
    return {"phases": phases, "kinds": kinds, "withdrawn": withdrawn, "dropoffs": dropoffs, "rules": rules,
            "athletes_flagged": {k: len(v) for k, v in flagged.items()},
            "timelines": [_timeline(a, s, r, end) for _, a, s, r in stories[:timelines]]}


KEY_KINDS = ("advance_phase", "regress_phase", "deload", "flag")


def _timeline(athlete_id, state, recs, end) -> dict:
    """Phase changes and the key advice (phase, deloads, flags, and withdrawals by correction), each
    dated in the athlete's zone, with its explanation and the numbers compared."""
    zone = local_zone(state.profile.time_zone)
    key = [r for r in recs if (isinstance(r, RecommendationIssued) and (r.kind in KEY_KINDS or r.topic == "run"))
           or (isinstance(r, RecommendationWithdrawn) and r.reason == "correction")]
    rows = []
    for r in key[:10]:
        day = r.decision_time.astimezone(zone).date().isoformat()
        if isinstance(r, RecommendationWithdrawn):
            rows.append((day, "withdrawn", r.rule_id, f"{r.reason}: {r.explanation}", {}))
        else:
            rows.append((day, r.kind, r.rule_id, r.explanation, {k: v for k, v in r.rationale.items() if v is not None}))
    return {"athlete_id": athlete_id, "phase": state.phase.phase,
            "changes": [(dt.date.fromordinal(c.day).isoformat(), c.phase, c.rule_id) for c in state.phase.changes],
            "key_recommendations": rows}
