"""The pipeline's engine functions: what each worker actor calls (one function per actor).

* :func:`project_athlete` - the projector: read the stream from the checkpoint, fold and decide,
  append recommendations (deterministic ids: a redelivery appends nothing), save with CAS.
* :func:`tick_athlete` - day-boundary decision points up to a horizon (time passing with no logs).
* :func:`lagging_athletes` - the sweeper's question: whose projection is behind its stream head?

A message is only a wake-up: everything is read from the store, so lost, duplicated or reordered
messages delay work but never change its result.

**What is durable at the end of a wake-up**: the recommendations it decided and the checkpoint,
committed in ONE transaction (compare-and-set on the checkpoint row's revision). The state itself
need not be: with :class:`ResidentStates` a worker keeps it in memory and saves a snapshot only
every ``snapshot_every`` events, or ``snapshot_after_s`` seconds after the athlete's last unsaved
change (and on shutdown). Whoever finds the
checkpoint ahead of its state (a killed worker's athletes, a wake-up that went to another process)
re-folds from the last snapshot: the fold is deterministic, so it decides the same recommendations
with the same ids, which the store already holds and does not write again. Nothing is lost (every
recommendation up to the checkpoint is stored), nothing is duplicated (ids), and the snapshot lags
the checkpoint by at most ``snapshot_every`` events plus one wake-up.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator

import msgspec

from engine import metrics
from engine.decisions import advance
from engine.notifiers.base import delivery_id
from engine.policies.base import Policy
from engine.store.base import EventStore, IdempotencyConflict, ProjectionCommit
from events import NewEvent, recommendation_stream
from events.envelope import is_recommendation_stream
from events.vocabulary import RecommendationEvent, RecommendationIssued
from projections.athlete import AthleteState, decode, encode

PROJECTION = "athlete"
READ_CHUNK = 2000
MAX_CAS_ATTEMPTS = 20


class ProjectionOutcome(msgspec.Struct, frozen=True):
    athlete_id: str
    events_folded: int
    checkpoint: int
    recommendations: list[RecommendationEvent]
    attempts: int


def load_state(store: EventStore, athlete_id: str) -> tuple[AthleteState, int | None]:
    """The saved state and its checkpoint (None: nothing saved yet)."""
    record = store.load_projection(athlete_id, PROJECTION)
    if record is None:
        return AthleteState(athlete_id=athlete_id), None
    return decode(record.state), record.checkpoint


def current_state(store: EventStore, athlete_id: str, policy: Policy) -> AthleteState:
    """The state as of the checkpoint, for readers (the coach's view): the saved snapshot, plus the
    events that a worker holding the athlete in memory has already committed past it, re-folded
    here as that worker did (the checkpoint is always at a batch boundary, so the last batch is
    decided as there). Without resident workers the snapshot is the checkpoint: no extra work.
    ``policy`` must be the workers' (phases are its decisions); projections do not depend on it."""
    state, _ = load_state(store, athlete_id)
    durable = store.projection_checkpoint(athlete_id, PROJECTION)
    if durable is None or durable[0] <= state.version:
        return state
    while state.version < durable[0]:
        chunk = store.read_stream(athlete_id, state.version + 1, min(READ_CHUNK, durable[0] - state.version))
        if not chunk:
            break
        advance(state, chunk, policy, complete=False)
    advance(state, (), policy)
    return state


def append_recommendations(store: EventStore, athlete_id: str,
                           recommendations: list[RecommendationEvent]) -> None:
    """Append to the athlete's recommendation stream; ids are deterministic, so this is idempotent."""
    if not recommendations:
        return
    drafts = [NewEvent(data=r, occurred_at=r.decision_time, event_id=delivery_id(r),
                       source=f"policy:{r.policy_name}@{r.policy_version}") for r in recommendations]
    stream = recommendation_stream(athlete_id)
    try:
        result = store.append(stream, drafts)  # a racing worker may have stored part: only the rest is new
        new = [r for i, r in enumerate(recommendations) if i not in result.duplicates]
        if not result.deduplicated:
            metrics.recommendations_stored(_issued(new))
    except IdempotencyConflict:
        for draft in drafts:  # part of this batch was stored by a racing worker: one by one
            if not store.append(stream, [draft]).deduplicated:
                metrics.recommendations_stored(_issued([draft.data]))


def _issued(events: list[RecommendationEvent]) -> list[RecommendationIssued]:
    return [e for e in events if isinstance(e, RecommendationIssued)]


class Resident:
    """An athlete's state held in memory, and where the store stands for it."""

    __slots__ = ("checkpoint", "dirty_since", "revision", "snapshot", "state")

    def __init__(self, state: AthleteState, checkpoint: int | None, revision: int | None, snapshot: int) -> None:
        self.state, self.checkpoint, self.revision = state, checkpoint, revision
        self.snapshot = snapshot
        """The version of the last snapshot saved (0: none)."""
        self.dirty_since = 0.0
        """When the state last changed without being saved (monotonic; 0: it is saved)."""


class ResidentStates:
    """A worker process's athletes' states in memory (LRU), so a wake-up folds only the new events.

    An entry is used only while the store's checkpoint row is still at the revision this process
    committed (one narrow read per wake-up); otherwise the athlete is reloaded from its snapshot.
    ``snapshot_every=1`` saves the state at every wake-up (no deferral, the in-process default).
    Wake-ups of one athlete are serialised in this process (striped locks).

    Deferring snapshots pays only when an athlete's wake-ups keep coming to this process. When
    more than ``SHARED`` of the recent wake-ups found their entry outdated (another process
    committed the athlete: wake-ups are spread over processes), every wake-up saves the state,
    so the next process reloads a current snapshot instead of re-folding up to N events."""

    SHARED = 0.2
    WINDOW = 200

    def __init__(self, capacity: int = 1000, snapshot_every: int = 64, snapshot_after_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1 or snapshot_every < 1 or snapshot_after_s < 0:
            raise ValueError("capacity and snapshot_every must be >= 1, snapshot_after_s >= 0")
        self.capacity, self.snapshot_every, self.snapshot_after_s = capacity, snapshot_every, snapshot_after_s
        self.clock = clock
        self._entries: OrderedDict[str, Resident] = OrderedDict()
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(64)]
        self.hits = self.misses = 0
        self._outdated: deque[bool] = deque(maxlen=self.WINDOW)

    def hold(self, athlete_id: str) -> threading.Lock:
        return self._stripes[hash(athlete_id) % len(self._stripes)]

    def take(self, athlete_id: str, durable: tuple[int, int] | None) -> Resident | None:
        """The entry, removed while in use, if it still reflects ``durable`` (checkpoint, revision)."""
        with self._lock:
            entry = self._entries.pop(athlete_id, None)
        if entry is not None and durable is not None and (entry.checkpoint, entry.revision) == durable:
            self.hits += 1
            self._outdated.append(False)
            return entry
        self.misses += 1
        if entry is not None:
            self._outdated.append(True)
        return None

    @property
    def shared(self) -> bool:
        """Recent wake-ups often found their state outdated (see the class docstring)."""
        recent = list(self._outdated)
        return len(recent) >= 20 and sum(recent) > self.SHARED * len(recent)

    def put(self, athlete_id: str, entry: Resident) -> None:
        with self._lock:
            self._entries[athlete_id] = entry
            while len(self._entries) > self.capacity:  # the evicted state is re-folded from its snapshot
                self._entries.popitem(last=False)

    def snapshot_due(self, entry: Resident) -> bool:
        """Every ``snapshot_every`` events, or once the athlete has been quiet for ``snapshot_after_s``
        with a change unsaved (a busy athlete is bounded by the events, a quiet one by the time);
        ``snapshot_after_s=0``: at every change."""
        if self.snapshot_after_s == 0:
            return True
        if entry.snapshot == 0 or entry.state.version - entry.snapshot >= self.snapshot_every or self.shared:
            return True
        return bool(entry.dirty_since) and self.clock() - entry.dirty_since >= self.snapshot_after_s

    def flush(self, store: EventStore, *, everything: bool = False) -> int:
        """Save the snapshots that are due (``everything``: every unsaved one, at shutdown); an
        entry whose checkpoint moved underneath is dropped. Returns the snapshots saved."""
        with self._lock:
            dirty = [a for a, e in self._entries.items() if e.dirty_since]
        saved = 0
        for athlete_id in dirty:
            with self.hold(athlete_id):
                with self._lock:
                    entry = self._entries.pop(athlete_id, None)
                if entry is None or not entry.dirty_since:
                    if entry is not None:
                        self.put(athlete_id, entry)
                    continue
                if not everything and not self.snapshot_due(entry):
                    self.put(athlete_id, entry)
                    continue
                done = store.commit_projection(athlete_id, PROJECTION, entry.state.version, entry.checkpoint,
                                               encode(entry.state), expected_revision=entry.revision)
                if done.saved:
                    entry.revision, entry.snapshot, entry.dirty_since = done.revision, entry.state.version, 0.0
                    self.put(athlete_id, entry)
                    saved += 1
        return saved


def _commit(store: EventStore, athlete_id: str, entry: Resident, recs: list[RecommendationEvent],
            snapshot: bool) -> ProjectionCommit:
    """Recommendations, checkpoint (and the snapshot, when due) in one transaction."""
    state = entry.state
    drafts = [NewEvent(data=r, occurred_at=r.decision_time, event_id=delivery_id(r),
                       source=f"policy:{r.policy_name}@{r.policy_version}") for r in recs]
    blob = encode(state) if snapshot else None
    try:
        done = store.commit_projection(athlete_id, PROJECTION, state.version, entry.checkpoint, blob,
                                       recommendation_stream(athlete_id), drafts, expected_revision=entry.revision)
    except IdempotencyConflict:  # a racing worker stored part of them differently: one by one, then commit
        append_recommendations(store, athlete_id, recs)
        return store.commit_projection(athlete_id, PROJECTION, state.version, entry.checkpoint, blob,
                                       expected_revision=entry.revision)
    if done.saved and done.appended is not None and not done.appended.deduplicated:
        metrics.recommendations_stored(_issued([r for i, r in enumerate(recs) if i not in done.appended.duplicates]))
    return done


def _load(store: EventStore, athlete_id: str, resident: ResidentStates | None) -> Resident:
    durable = store.projection_checkpoint(athlete_id, PROJECTION)
    entry = resident.take(athlete_id, durable) if resident is not None else None
    if entry is None:  # not held here, or the store moved on underneath: re-fold from the snapshot
        state, snapshot = load_state(store, athlete_id)
        entry = Resident(state, None if durable is None else durable[0], None if durable is None else durable[1],
                         snapshot or 0)
    return entry


def _run(store: EventStore, athlete_id: str, policy: Policy, horizon: dt.datetime | None,
         read_events: bool, resident: ResidentStates | None = None) -> ProjectionOutcome:
    with resident.hold(athlete_id) if resident is not None else contextlib.nullcontext():
        for attempt in range(1, MAX_CAS_ATTEMPTS + 1):
            entry = _load(store, athlete_id, resident)
            state = entry.state
            decided_before, quarantined_before = state.last_decision_us, len(state.quarantined)
            folded, recs, recorded = 0, [], []
            if read_events:
                while True:
                    chunk = store.read_stream(athlete_id, state.version + 1, READ_CHUNK)
                    if not chunk:
                        break
                    recs += advance(state, chunk, policy, complete=False)  # a batch may span chunks
                    recorded += [e.recorded_at for e in chunk]
                    folded += len(chunk)
            recs += advance(state, (), policy, horizon)  # the last batch's decision point, then ticks
            if entry.checkpoint is not None and folded == 0 and state.last_decision_us == decided_before \
                    and state.version == entry.checkpoint:
                if resident is not None:
                    resident.put(athlete_id, entry)
                return ProjectionOutcome(athlete_id, 0, state.version, [], attempt)
            snapshot = resident is None or resident.snapshot_due(entry)
            if resident is not None:
                entry.dirty_since = resident.clock()
            done = _commit(store, athlete_id, entry, recs, snapshot)
            if done.saved:
                entry.checkpoint, entry.revision = state.version, done.revision
                if snapshot:
                    entry.snapshot, entry.dirty_since = state.version, 0.0
                if resident is not None:
                    resident.put(athlete_id, entry)
                metrics.projected(_now(store), recorded, attempt)
                metrics.events_quarantined(q.type for q in state.quarantined[quarantined_before:])
                return ProjectionOutcome(athlete_id, folded, state.version, recs, attempt)
    raise RuntimeError(f"projection of {athlete_id} lost {MAX_CAS_ATTEMPTS} compare-and-set races in a row")


def _now(store: EventStore) -> dt.datetime:
    """The store's clock (the one that stamped recorded_at), for projection lag."""
    clock = getattr(store, "clock", None)
    return clock.now() if clock is not None else dt.datetime.now(dt.timezone.utc)


def project_athlete(store: EventStore, athlete_id: str, policy: Policy,
                    horizon: dt.datetime | None = None, resident: ResidentStates | None = None) -> ProjectionOutcome:
    """Fold every new event of the athlete and evaluate its decision points: one per stored batch,
    and each local midnight between batches. With ``horizon`` (aware), also the midnights after
    the last batch up to it: a diary backfilled in one go gets its day-by-day decisions, and time
    passing with no logs (silence, drop-off 4) is judged up to then. With ``resident``, the state
    is kept in memory and snapshotted only when due (see the module's docstring)."""
    if horizon is not None and horizon.tzinfo is None:
        raise ValueError("horizon must be an aware datetime (e.g. datetime.now(timezone.utc))")
    return _run(store, athlete_id, policy, horizon, read_events=True, resident=resident)


def tick_athlete(store: EventStore, athlete_id: str, policy: Policy, horizon: dt.datetime,
                 resident: ResidentStates | None = None) -> ProjectionOutcome:
    """Catch up on events, then evaluate day boundaries up to ``horizon``."""
    return _run(store, athlete_id, policy, horizon, read_events=True, resident=resident)


def lagging_athletes(store: EventStore) -> Iterator[tuple[str, int, int]]:
    """(athlete, stream version, projection checkpoint) for every athlete whose projection is behind."""
    checkpoints = store.projection_checkpoints(PROJECTION)
    for head in store.stream_heads():
        if is_recommendation_stream(head.stream):
            continue
        done = checkpoints.get(head.stream, 0)
        if done < head.version:
            yield head.stream, head.version, done


def athletes(store: EventStore) -> list[str]:
    return [h.stream for h in store.stream_heads() if not is_recommendation_stream(h.stream)]


def recommendations(store: EventStore, athlete_id: str, from_version: int = 1) -> list[RecommendationEvent]:
    return [e.data for e in store.read_stream(recommendation_stream(athlete_id), from_version)]
