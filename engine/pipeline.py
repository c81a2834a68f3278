"""The pipeline's engine functions: what each worker actor calls (one function per actor).

* :func:`project_athlete` - the projector: read the stream from the checkpoint, fold and decide,
  append recommendations (deterministic ids: a redelivery appends nothing), save with CAS.
* :func:`tick_athlete` - day-boundary decision points up to a horizon (time passing with no logs).
* :func:`lagging_athletes` - the sweeper's question: whose projection is behind its stream head?

A message is only a wake-up: everything is read from the store, so lost, duplicated or reordered
messages delay work but never change its result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import msgspec

from engine import metrics
from engine.notifiers.base import delivery_id
from engine.policies.base import Policy
from engine.store.base import EventStore, IdempotencyConflict
from events import NewEvent, recommendation_stream
from events.envelope import is_recommendation_stream
from events.vocabulary import RecommendationEvent, RecommendationIssued
from projections.athlete import AthleteState, decode, encode
from engine.decisions import advance

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


def _run(store: EventStore, athlete_id: str, policy: Policy, horizon: dt.datetime | None,
         read_events: bool) -> ProjectionOutcome:
    for attempt in range(1, MAX_CAS_ATTEMPTS + 1):
        state, checkpoint = load_state(store, athlete_id)
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
        if checkpoint is not None and folded == 0 and state.last_decision_us == decided_before:
            return ProjectionOutcome(athlete_id, 0, state.version, [], attempt)
        append_recommendations(store, athlete_id, recs)
        if store.save_projection(athlete_id, PROJECTION, encode(state), state.version, checkpoint):
            metrics.projected(_now(store), recorded, attempt)
            metrics.events_quarantined(q.type for q in state.quarantined[quarantined_before:])
            return ProjectionOutcome(athlete_id, folded, state.version, recs, attempt)
    raise RuntimeError(f"projection of {athlete_id} lost {MAX_CAS_ATTEMPTS} compare-and-set races in a row")


def _now(store: EventStore) -> dt.datetime:
    """The store's clock (the one that stamped recorded_at), for projection lag."""
    clock = getattr(store, "clock", None)
    return clock.now() if clock is not None else dt.datetime.now(dt.timezone.utc)


def project_athlete(store: EventStore, athlete_id: str, policy: Policy,
                    horizon: dt.datetime | None = None) -> ProjectionOutcome:
    """Fold every new event of the athlete and evaluate its decision points: one per stored batch,
    and each local midnight between batches. With ``horizon`` (aware), also the midnights after
    the last batch up to it: a diary backfilled in one go gets its day-by-day decisions, and time
    passing with no logs (silence, drop-off 4) is judged up to then."""
    if horizon is not None and horizon.tzinfo is None:
        raise ValueError("horizon must be an aware datetime (e.g. datetime.now(timezone.utc))")
    return _run(store, athlete_id, policy, horizon, read_events=True)


def tick_athlete(store: EventStore, athlete_id: str, policy: Policy, horizon: dt.datetime) -> ProjectionOutcome:
    """Catch up on events, then evaluate day boundaries up to ``horizon``."""
    return _run(store, athlete_id, policy, horizon, read_events=True)


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
