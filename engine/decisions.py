"""Decision points: where the log and the calendar meet the policy (RULES.md 7, DESIGN.md).

* **One decision point per submitted batch.** A batch is the run of consecutive events that share a
  ``recorded_at`` (the store stamps one instant per append, strictly increasing per stream), so no
  advice is issued between two events of one submission, whatever their order.
* **Day boundaries.** Each local midnight of the athlete's time zone between batches (and up to a
  horizon) is a decision point too, for rules about time passing with no logs.
* **No look-ahead.** At a decision time T the state holds exactly the events recorded by T.

The policy returns the advice that holds now, one per topic. This module turns changes into the
recommendation stream: advice issued (naming the one it ``supersedes`` on its topic) and advice
withdrawn (``superseded`` by advice on another topic, ``correction`` when the batch retracted or
amended an entry, ``no_longer_holds`` otherwise). Ids are uuid5 of (athlete, policy, version, topic,
decision time, trigger position), so live processing and a replay produce identical streams.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from engine.clock import from_micros, to_micros
from engine.policies.base import PHASE_TOPIC, Advice, Policy
from events import Envelope
from events.vocabulary import RecommendationEvent, RecommendationIssued, RecommendationWithdrawn, WithdrawalReason
from projections import phase as ph
from projections.athlete import AthleteState, fold_or_quarantine
from projections.calendar import local_day, midnights_between

RECOMMENDATION_NAMESPACE = uuid.UUID("6f1c2a4e-8d1b-5b7e-9a43-3c2f4e5d6a70")
WITHDRAWAL_NAMESPACE = uuid.UUID("0c4f8a52-3b9e-5d21-8f6a-7e1d2c3b4a59")


def recommendation_id(athlete_id: str, policy: Policy, topic: str, at_us: int, position: int) -> uuid.UUID:
    key = f"{athlete_id}|{policy.name}|{policy.version}|{topic}|{at_us}|{position}"
    return uuid.uuid5(RECOMMENDATION_NAMESPACE, key)


def withdrawal_id(athlete_id: str, policy: Policy, topic: str, at_us: int, position: int) -> uuid.UUID:
    key = f"{athlete_id}|{policy.name}|{policy.version}|{topic}|{at_us}|{position}"
    return uuid.uuid5(WITHDRAWAL_NAMESPACE, key)


def _fingerprint(advice: Advice) -> str:
    target = ",".join([f"{k}={v}" for k, v in sorted(advice.target.items())])
    return f"{advice.kind}|{advice.rule_id}|{target}"


def _covers(advice: Advice, topic: str) -> bool:
    return any(topic.startswith(prefix) for prefix in advice.covers)


def _decide(state: AthleteState, policy: Policy, at: dt.datetime) -> list[Advice]:
    """The policy's advice, one per topic; a phase change is recorded first and the advice is then
    asked again for the phase the athlete is now in (one change per decision point)."""
    advice_now = policy.decide(state, at)
    change = next((a for a in advice_now if a.new_phase is not None), None)
    if change is not None:
        ph.record(state.phase, change.new_phase, to_micros(at), local_day(at, state.profile.time_zone),
                  state.position, change.rule_id)
        advice_now = [change] + [a for a in policy.decide(state, at) if a.new_phase is None]
    by_topic: dict[str, Advice] = {}
    for advice in advice_now:
        by_topic.setdefault(advice.topic, advice)
    return list(by_topic.values())


def evaluate(state: AthleteState, policy: Policy, at: dt.datetime, trigger_position: int) -> list[RecommendationEvent]:
    """One decision point: ask the policy, record phase changes, emit what changed."""
    at_us = to_micros(at)
    athlete, corrected = state.athlete_id, bool(state.corrected_days)
    advice_now = _decide(state, policy, at)
    out: list[RecommendationEvent] = []
    for advice in advice_now:
        fingerprint = _fingerprint(advice)
        if advice.new_phase is None and state.memory.get(advice.topic) == fingerprint:
            continue
        rid = recommendation_id(athlete, policy, advice.topic, at_us, trigger_position)
        previous = state.memory_ids.get(advice.topic)
        out.append(RecommendationIssued(
            recommendation_id=rid, athlete_id=athlete, kind=advice.kind, topic=advice.topic,
            rule_id=advice.rule_id, explanation=advice.explanation, policy_name=policy.name,
            policy_version=policy.version, decision_time=at, trigger_position=trigger_position,
            target=dict(advice.target), rationale=dict(advice.rationale),
            supersedes=None if previous is None else uuid.UUID(previous)))
        state.memory[advice.topic] = fingerprint
        state.memory_ids[advice.topic] = str(rid)
    present = {a.topic for a in advice_now}
    for topic in [t for t in state.memory if t not in present and t != PHASE_TOPIC]:
        kind, rule_id, _ = state.memory.pop(topic).split("|", 2)
        withdrawn = state.memory_ids.pop(topic, None)
        if withdrawn is None:
            continue  # a state saved before withdrawals existed: nothing to name
        cover = next((a for a in advice_now if _covers(a, topic)), None)
        if cover is not None:
            reason, text = WithdrawalReason.SUPERSEDED, f"Replaced by the {cover.topic} advice ({cover.rule_id})."
        elif corrected:
            reason, text = WithdrawalReason.CORRECTION, "A corrected or retracted entry removed what this advice stood on."
        else:
            reason, text = WithdrawalReason.NO_LONGER_HOLDS, "What this advice stood on no longer holds."
        out.append(RecommendationWithdrawn(
            withdrawal_id=withdrawal_id(athlete, policy, topic, at_us, trigger_position),
            recommendation_id=uuid.UUID(withdrawn), athlete_id=athlete, kind=kind, topic=topic,
            rule_id=rule_id, reason=reason, explanation=text, policy_name=policy.name,
            policy_version=policy.version, decision_time=at, trigger_position=trigger_position,
            superseded_by=None if cover is None else uuid.UUID(state.memory_ids[cover.topic])))
    state.arrived.clear()
    state.corrected_days.clear()
    state.last_decision_us = max(state.last_decision_us, at_us)
    return out


def _boundaries(state: AthleteState, policy: Policy, until: dt.datetime) -> list[RecommendationEvent]:
    if not state.last_decision_us:
        return []
    out = []
    for midnight in midnights_between(from_micros(state.last_decision_us), until, state.profile.time_zone):
        out += evaluate(state, policy, midnight, state.position)
    return out


def _decide_batch(state: AthleteState, policy: Policy) -> list[RecommendationEvent]:
    at, position = from_micros(state.pending_us), state.pending_position
    state.pending_us = state.pending_position = 0
    return evaluate(state, policy, at, position)


def advance(state: AthleteState, envelopes: Iterable[Envelope], policy: Policy,
            horizon: dt.datetime | None = None, *, complete: bool = True) -> list[RecommendationEvent]:
    """Fold ``envelopes`` (the athlete's next events, in version order) into ``state``, evaluating
    every decision point on the way, then the day boundaries up to ``horizon`` if given.

    ``complete=False`` says more events of the last batch may follow (a chunked read, a replay fed
    event by event): its decision point then waits in ``state`` for the next call."""
    out: list[RecommendationEvent] = []
    for envelope in envelopes:
        if envelope.version != state.version + 1:
            raise ValueError(f"{envelope.stream}: expected version {state.version + 1}, got {envelope.version}")
        if not state.athlete_id:
            state.athlete_id = envelope.stream
        recorded_us = to_micros(envelope.recorded_at)
        if state.pending_us and recorded_us != state.pending_us:
            out += _decide_batch(state, policy)
        if not state.pending_us:
            out += _boundaries(state, policy, envelope.recorded_at)
        fold_or_quarantine(state, envelope)
        state.last_recorded_us = recorded_us
        state.pending_us, state.pending_position = recorded_us, envelope.position
    if state.pending_us and (complete or horizon is not None):
        out += _decide_batch(state, policy)
    if horizon is not None:
        out += _boundaries(state, policy, horizon)
    return out


def pending_batch_us(state: AthleteState) -> int:
    """recorded_at (µs) of a batch folded but not yet decided (0: none)."""
    return state.pending_us
