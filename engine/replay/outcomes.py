"""Outcome metrics of one policy on one athlete, gathered while the log is folded.

The tracker sees what the engine saw (the athlete's events, each decision point's
recommendations, the projection state) and, at the horizon, turns it into one row:

* days from the first event to each phase (first time reached), regressions, final phase;
* flare-ups: distinct local days with red pain (score >= 6, the default traffic light) that fall
  within 7 days after a progression (a ``progress`` or ``advance_phase`` recommendation);
* drop-off flags by point (1-4, and the no-logs flag);
* adherence: complete local weeks after the policy first moved the athlete past ``settle`` that had
  >= 2 strength sessions (the 2-3 per week target), out of all such weeks;
* run spikes allowed: runs longer than the policy's long-run cap while that cap was in force (the
  advice carrying ``long_run_cap_km`` was current when the run was recorded), and single-run spike
  flags;
* re-injuries (injury reports after the first) and weeks to the pre-injury weekly volume.

Corrections count: a retracted log is dropped, an amended one replaced, as the projections do.
Every threshold here is fixed (not the policy's), so policies are measured with one ruler.
"""

from __future__ import annotations

import bisect
import json
import uuid
from collections import Counter

from engine.clock import from_micros, to_micros
from events import Envelope
from events.vocabulary import (
    EntryAmended, EntryRetracted, InjuryReported, LiftLogged, PainReported, RecommendationIssued,
    RunKind, RunLogged,
)
from projections.athlete import AthleteState
from projections.calendar import local_day, week_of
from projections.pain import PainThresholds
from projections.phase import PHASES

RED_MIN = PainThresholds().amber_max + 1
FLARE_WINDOW_US = 7 * 86_400_000_000
STRENGTH_SESSIONS_TARGET = 2
PROGRESSION_KINDS = frozenset({"progress", "advance_phase"})
DROP_OFF_TOPICS = {"dropoff:1": "dropoff_1", "dropoff:2": "dropoff_2", "dropoff:3": "dropoff_3",
                   "dropoff:4": "dropoff_4", "dropoff:silent": "dropoff_silent"}
LATER_PHASES = PHASES[1:]


class OutcomeTracker:
    __slots__ = ("first_us", "events", "recommendations", "pain", "lifts", "runs", "progressions",
                 "flags", "spike_flags", "runs_checked", "spikes_allowed", "cap", "cap_topic", "injuries")

    def __init__(self) -> None:
        self.first_us: int | None = None
        self.events = 0
        self.recommendations = 0
        self.pain: dict[uuid.UUID, list] = {}
        """event id -> [occurred_us, local day, score]"""
        self.lifts: dict[uuid.UUID, int] = {}
        self.runs: dict[uuid.UUID, list] = {}
        """event id -> [local day, km] (walks excluded)"""
        self.progressions: list[int] = []
        self.flags: Counter[str] = Counter()
        self.spike_flags = 0
        self.runs_checked = 0
        self.spikes_allowed = 0
        self.cap: float | None = None
        self.cap_topic: str | None = None
        self.injuries = 0

    # -- while folding ------------------------------------------------------------------------

    def before_run(self, envelope: Envelope, state: AthleteState) -> None:
        """A run is about to be folded; the decision points up to its recorded_at are done."""
        run = envelope.data
        if run.kind == RunKind.WALK:
            return
        self.runs_checked += 1
        if self.cap is not None and self.cap_topic in state.memory and run.distance_km > self.cap:
            self.spikes_allowed += 1

    def on_event(self, envelope: Envelope, state: AthleteState) -> None:
        """The event has been folded into ``state``."""
        self.events += 1
        if self.first_us is None:
            self.first_us = to_micros(envelope.recorded_at)
        data = envelope.data
        kind = type(data)
        if kind is PainReported:
            occurred = envelope.occurred_at
            self.pain[envelope.event_id] = [to_micros(occurred), local_day(occurred, state.profile.time_zone),
                                            data.score]
        elif kind is LiftLogged:
            self.lifts[envelope.event_id] = local_day(envelope.occurred_at, state.profile.time_zone)
        elif kind is RunLogged:
            if data.kind != RunKind.WALK:
                self.runs[envelope.event_id] = [local_day(envelope.occurred_at, state.profile.time_zone),
                                                data.distance_km]
        elif kind is EntryRetracted:
            target = data.target_event_id
            self.pain.pop(target, None)
            self.lifts.pop(target, None)
            self.runs.pop(target, None)
        elif kind is EntryAmended:
            target, new = data.target_event_id, data.replacement
            if target in self.pain and type(new) is PainReported:
                self.pain[target][2] = new.score
            elif target in self.runs and type(new) is RunLogged:
                if new.kind == RunKind.WALK:
                    del self.runs[target]
                else:
                    self.runs[target][1] = new.distance_km
        elif kind is InjuryReported:
            self.injuries += 1

    def on_recommendations(self, recs: list[RecommendationIssued]) -> None:
        for rec in recs:
            self.recommendations += 1
            topic = rec.topic
            if rec.kind in PROGRESSION_KINDS:
                self.progressions.append(to_micros(rec.decision_time))
            cap = rec.target.get("long_run_cap_km")
            if isinstance(cap, (int, float)):  # the long-run cap, on whichever topic carries it (the
                self.cap, self.cap_topic = float(cap), topic  # running plan's "run" in policy 2.0)
            elif topic == self.cap_topic:  # that topic's advice changed and caps no run any more
                self.cap = None
            if topic == "run:spike":
                self.spike_flags += 1
            elif topic in DROP_OFF_TOPICS:
                self.flags[DROP_OFF_TOPICS[topic]] += 1

    # -- at the horizon -----------------------------------------------------------------------

    def finish(self, state: AthleteState, horizon_us: int, pre_injury_weekly_km: float | None = None) -> dict:
        tz = state.profile.time_zone
        first_day = local_day(from_micros(self.first_us or horizon_us), tz)
        end_day = local_day(from_micros(horizon_us), tz)
        row: dict = {"athlete_id": state.athlete_id, "events": self.events,
                     "recommendations": self.recommendations,
                     "first_event_at": from_micros(self.first_us or horizon_us),
                     "observed_days": end_day - first_day, "final_phase": state.phase.phase}
        reached: dict[str, int] = {}
        regressions, current, timeline = 0, "settle", [[0, "settle"]]
        for change in state.phase.changes:
            if PHASES.index(change.phase) < PHASES.index(current):
                regressions += 1
            current = change.phase
            reached.setdefault(change.phase, change.day - first_day)
            timeline.append([change.day - first_day, change.phase])
        for phase in LATER_PHASES:
            row[f"days_to_{phase}"] = reached.get(phase)
        row["regressions"] = regressions
        row["phase_changes"] = json.dumps(timeline, separators=(",", ":"))
        row |= self._flare_ups()
        for name in DROP_OFF_TOPICS.values():
            row[name] = self.flags.get(name, 0)
        row["dropoff_flags"] = sum(v for k, v in self.flags.items() if k != "dropoff_silent")
        row["dropped_off_at_end"] = any(t in state.memory for t in ("dropoff:1", "dropoff:2", "dropoff:3",
                                                                    "dropoff:4"))
        row |= self._adherence(state, end_day)
        row |= {"runs": self.runs_checked, "spikes_allowed": self.spikes_allowed,
                "spike_flags": self.spike_flags, "reinjuries": max(0, self.injuries - 1)}
        pre = state.profile.pre_injury_weekly_km if pre_injury_weekly_km is None else pre_injury_weekly_km
        row["weeks_to_pre_injury_volume"] = self._weeks_to_volume(first_day, end_day, pre)
        return row

    def _flare_ups(self) -> dict:
        progressions = sorted(self.progressions)
        red_days, flare_days = set(), set()
        for occurred, day, score in self.pain.values():
            if score < RED_MIN:
                continue
            red_days.add(day)
            i = bisect.bisect_left(progressions, occurred) - 1  # the last progression before the pain
            if i >= 0 and occurred - progressions[i] <= FLARE_WINDOW_US:
                flare_days.add(day)
        return {"progressions": len(progressions), "red_pain_days": len(red_days), "flare_ups": len(flare_days)}

    def _adherence(self, state: AthleteState, end_day: int) -> dict:
        left_settle = next((c.day for c in state.phase.changes if c.phase != "settle"), None)
        if left_settle is None:
            return {"strength_weeks": 0, "strength_weeks_met": 0}
        sessions = Counter(week_of(d) for d in set(self.lifts.values()))
        weeks = range(week_of(left_settle) + 1, week_of(end_day))
        return {"strength_weeks": len(weeks),
                "strength_weeks_met": sum(1 for w in weeks if sessions.get(w, 0) >= STRENGTH_SESSIONS_TARGET)}

    def _weeks_to_volume(self, first_day: int, end_day: int, pre_km: float) -> int | None:
        if pre_km <= 0:
            return None
        per_week: Counter[int] = Counter()
        for day, km in self.runs.values():
            per_week[week_of(day)] += km
        start, last = week_of(first_day), week_of(end_day)
        for week in sorted(per_week):
            if start <= week < last and per_week[week] >= pre_km - 1e-9:
                return week - start
        return None
