"""Decision points: where the log and the calendar meet the policy.

The policy is evaluated after each event in stream order (at its ``recorded_at``) and at each local
midnight of the athlete's time zone between events (and up to a horizon). At a decision time T the
state holds exactly the events recorded before T: no look-ahead. Recommendations get deterministic
ids from (athlete, policy, version, topic, decision time, trigger position), so live processing and
a replay produce identical recommendations with identical ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from engine.clock import from_micros, to_micros
from engine.policies.base import Advice, Policy
from events import Envelope
from events.vocabulary import RecommendationIssued
from projections import phase as ph
from projections.athlete import AthleteState, fold_or_quarantine
from projections.calendar import local_day, midnights_between

RECOMMENDATION_NAMESPACE = uuid.UUID("6f1c2a4e-8d1b-5b7e-9a43-3c2f4e5d6a70")


def recommendation_id(athlete_id: str, policy: Policy, topic: str, at_us: int, position: int) -> uuid.UUID:
    key = f"{athlete_id}|{policy.name}|{policy.version}|{topic}|{at_us}|{position}"
    return uuid.uuid5(RECOMMENDATION_NAMESPACE, key)


def _fingerprint(advice: Advice) -> str:
    target = ",".join([f"{k}={v}" for k, v in sorted(advice.target.items())])
    return f"{advice.kind}|{advice.rule_id}|{target}"


def evaluate(state: AthleteState, policy: Policy, at: dt.datetime, trigger_position: int) -> list[RecommendationIssued]:
    """One decision point: ask the policy, record phase changes, emit what changed."""
    at_us = to_micros(at)
    out: list[RecommendationIssued] = []
    seen: set[str] = set()
    advice_now = policy.decide(state, at)
    change = next((a for a in advice_now if a.new_phase is not None), None)
    if change is not None:
        # record the phase change, then advise for the phase the athlete is now in (one change per
        # decision point: a second phase advice in the new phase waits for the next point)
        ph.record(state.phase, change.new_phase, at_us, local_day(at, state.profile.time_zone),
                  trigger_position, change.rule_id)
        advice_now = [change] + [a for a in policy.decide(state, at) if a.new_phase is None]
    for advice in advice_now:
        seen.add(advice.topic)
        if advice.new_phase is not None:
            pass  # a phase change is always news
        elif state.memory.get(advice.topic) == (fingerprint := _fingerprint(advice)):
            continue
        else:
            state.memory[advice.topic] = fingerprint
        out.append(RecommendationIssued(
            recommendation_id=recommendation_id(state.athlete_id, policy, advice.topic, at_us, trigger_position),
            athlete_id=state.athlete_id, kind=advice.kind, topic=advice.topic, rule_id=advice.rule_id,
            explanation=advice.explanation, policy_name=policy.name, policy_version=policy.version,
            decision_time=at, trigger_position=trigger_position, target=dict(advice.target),
            rationale=dict(advice.rationale)))
    for topic in [t for t in state.memory if t not in seen]:
        del state.memory[topic]  # advice withdrawn: the same advice later is news again
    state.last_decision_us = max(state.last_decision_us, at_us)
    return out


def _boundaries(state: AthleteState, policy: Policy, until: dt.datetime) -> list[RecommendationIssued]:
    if not state.last_decision_us:
        return []
    out = []
    for midnight in midnights_between(from_micros(state.last_decision_us), until, state.profile.time_zone):
        out += evaluate(state, policy, midnight, state.position)
    return out


def advance(state: AthleteState, envelopes: Iterable[Envelope], policy: Policy,
            horizon: dt.datetime | None = None) -> list[RecommendationIssued]:
    """Fold ``envelopes`` (the athlete's next events, in version order) into ``state``, evaluating
    every decision point on the way, then the day boundaries up to ``horizon`` if given."""
    out: list[RecommendationIssued] = []
    for envelope in envelopes:
        if envelope.version != state.version + 1:
            raise ValueError(f"{envelope.stream}: expected version {state.version + 1}, got {envelope.version}")
        if not state.athlete_id:
            state.athlete_id = envelope.stream
        out += _boundaries(state, policy, envelope.recorded_at)
        fold_or_quarantine(state, envelope)
        state.last_recorded_us = to_micros(envelope.recorded_at)
        out += evaluate(state, policy, envelope.recorded_at, envelope.position)
    if horizon is not None:
        out += _boundaries(state, policy, horizon)
    return out
