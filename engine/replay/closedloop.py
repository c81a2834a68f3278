"""Closed-loop evaluation: the same simulated cohort lives under each policy, in memory.

Each day, for each simulated athlete: the day boundary is evaluated (``advance`` up to the local
midnight, as the sweeper's tick does live), the recommendations in force are folded into the
simulator's ``Advice`` and handed to ``SimulatedAthlete.day``; the athlete follows it or keeps its
habits (its own ``follows_advice``), its tissue model decides pain and re-injury, and what its app
sends is folded back with ``advance`` (each event at its send time, as ``recorded_at``). No store,
no broker. The orchestration (jobs, intervals, files, report) is ``engine.replay.loopresults``,
which imports this module (never the other way round).

Advice from the recommendations in force (topics the decision memory still holds):
``phase`` is the engine's phase; ``kinds`` the kinds of the non-strength, non-flag topics (pain,
recovery, running, bone stress: a per-exercise strength hold must not stop running progress);
``targets`` ``walk_run_level`` (the lowest advised), ``weekly_km`` and ``long_run_km`` (the long-run
cap); ``flags`` ``drop_off_N`` for the drop-off flags in force.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.policies.base import Policy
from engine.replay.core import Lane, batches
from engine.replay.policies import PolicySpec
from engine.replay.pool import report
from events import Envelope
from events.codec import encode_json
from events.vocabulary import RecommendationIssued
from projections.athlete import AthleteState
from projections.calendar import day_start

CLOSED_LOOP_METRICS = (
    ("reinjury_rate", "re-injury rate"),
    ("mean_weeks_to_pre_injury_volume", "weeks to pre-injury volume"),
    ("reached_pre_injury_volume", "share back to pre-injury volume"),
    ("adherence", "strength adherence (share of weeks)"),
    ("dropoff_athletes", "share flagged for a drop-off"),
    ("dropped_off_at_end", "share still dropping off at the end"),
    ("dropoff_flags_per_athlete", "drop-off flags per athlete"),
    ("reached_integration", "share reaching integration"),
    ("flare_ups_per_athlete", "flare-ups per athlete"),
)


def _simulation():
    from engine.simulation import Advice, make_athlete

    return Advice, make_athlete


def advice_from(state: AthleteState, in_force: dict[str, RecommendationIssued]):
    """The simulator's Advice for the recommendations in force (see the module docstring)."""
    Advice, _ = _simulation()
    kinds, flags, targets = set(), set(), {}
    levels = []
    for topic, rec in in_force.items():
        if rec.kind == "flag":
            point = rec.target.get("drop_off_point")
            if point is not None:
                flags.add(f"drop_off_{point}")
            continue
        if topic == "strength":
            continue
        kinds.add(rec.kind)
        target = rec.target
        if "walk_run_level" in target:
            levels.append(int(target["walk_run_level"]))
        if "weekly_km" in target:
            targets["weekly_km"] = target["weekly_km"]
        if "long_run_cap_km" in target and topic in ("run", "pain"):
            targets["long_run_km"] = target["long_run_cap_km"]
    if levels:
        targets["walk_run_level"] = min(levels)
    return Advice(kinds=frozenset(kinds), phase=state.phase.phase, targets=targets, flags=frozenset(flags))


def run_athlete(index: int, seed: int, start: dt.date, weeks: int, label: str, policy: Policy,
                keep_log: bool = False) -> dict:
    """One simulated athlete under one policy, day by day; returns its outcome row (with its
    recommendations under ``recommendation_log`` when ``keep_log``: the report's athlete pages)."""
    _, make_athlete = _simulation()
    athlete = make_athlete(index, seed, start)
    athlete_id, tz = athlete.athlete_id, athlete.profile.time_zone
    lane = Lane(label, policy, athlete_id)
    in_force: dict[str, RecommendationIssued] = {}

    def absorb(recs: list) -> None:
        for rec in recs:
            if type(rec) is not RecommendationIssued:  # a withdrawal: that topic's advice is gone
                in_force.pop(rec.topic, None)
            elif rec.topic != "phase":
                in_force[rec.topic] = rec
        memory = lane.state.memory
        for topic in [t for t in in_force if t not in memory]:
            del in_force[topic]

    version = 0
    date, end = athlete.enrolled_on, start + dt.timedelta(weeks=weeks)
    while date < end:
        absorb(lane.until(day_start(date.toordinal(), tz)))
        advice = advice_from(lane.state, in_force) if lane.state.profile.enrolled else None
        sent = []
        for send_at, event in athlete.day(date, advice):
            version += 1
            sent.append(Envelope(event_id=event.event_id, stream=athlete_id, version=version, position=version,
                                 occurred_at=event.occurred_at, recorded_at=send_at, data=event.data,
                                 correlation_id=event.correlation_id, causation_id=event.causation_id,
                                 source=event.source))
        for batch in batches(sent):  # one submission, one decision point, as live ingest
            absorb(lane.step(batch))
        if athlete.quit:
            break
        date += dt.timedelta(days=1)
    row = lane.finish(day_start(end.toordinal(), tz))
    if keep_log:
        row["recommendation_log"] = [
            {"decision_time": r.decision_time, "kind": r.kind, "topic": r.topic, "rule_id": r.rule_id,
             "target": encode_json(r.target).decode(), "explanation": r.explanation} for r in lane.recommendations]
    return {"policy": label, "seed": seed, "index": index, "habit": str(athlete.profile.habit),
            "quit": athlete.quit, "athlete_phase": athlete.phase} | row


@dataclass(frozen=True)
class LoopJob:
    policies: tuple[tuple[str, PolicySpec], ...]
    seed: int
    start: dt.date
    weeks: int
    indices: tuple[int, ...]
    logged_below: int = 0
    """Athletes with a smaller index keep their recommendation log (pages of the report)."""


_policies: dict[str, list[tuple[str, Policy]]] = {}


def run_loop_job(job: LoopJob) -> list[list[dict]]:
    """Every athlete of the job under every policy: rows per policy, in athlete order."""
    key = repr(job.policies)
    if key not in _policies:
        _policies[key] = [(label, spec.load()) for label, spec in job.policies]
    out: list[list[dict]] = [[] for _ in job.policies]
    for index in job.indices:
        for i, (label, policy) in enumerate(_policies[key]):
            row = run_athlete(index, job.seed, job.start, job.weeks, label, policy, index < job.logged_below)
            out[i].append(row)
            report(row["events"], 1)
    return out
