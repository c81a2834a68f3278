"""Fixtures for the simulator specs: one 50-athlete, 16-week cohort, and a reader of each athlete's log.

The reader recognises behaviours from the logged events alone (as an analyst would), never from
the simulator's internals, so the specs say what the cohort's logs contain.
"""

from __future__ import annotations

import collections
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine.simulator import Submission, simulate_cohort
from events.vocabulary import (
    INTENSE_RUN_KINDS, AthleteEnrolled, Context, EntryAmended, EntryRetracted, LiftLogged, PainReported,
    PlyometricLogged, ReadinessTestRecorded, RunKind, RunLogged,
)

HEAVY_LIFTS = {"squat", "split_squat", "deadlift"}


def week_of(day: dt.date) -> int:
    """Monday-based week number."""
    return (day.toordinal() - 1) // 7


class AthleteLog:
    """One athlete's submissions, with corrections applied, read by local calendar day."""

    def __init__(self, submissions: list[Submission]) -> None:
        self.submissions = submissions
        self.events = [e for s in submissions for e in s.events]
        enrolled = self.events[0].data
        assert isinstance(enrolled, AthleteEnrolled)
        self.zone = ZoneInfo(enrolled.time_zone)
        self.pre_km = enrolled.pre_injury_weekly_km
        retracted = {e.data.target_event_id for e in self.events if isinstance(e.data, EntryRetracted)}
        amended = {e.data.target_event_id: e.data.replacement for e in self.events if isinstance(e.data, EntryAmended)}
        self.entries = sorted(
            ((e.occurred_at.astimezone(self.zone).date(), amended.get(e.event_id, e.data)) for e in self.events
             if e.event_id not in retracted and not isinstance(e.data, (EntryAmended, EntryRetracted))),
            key=lambda entry: entry[0])
        self.last_day = self.entries[-1][0]
        self.run_km: collections.Counter = collections.Counter()
        self.runs: collections.Counter = collections.Counter()
        self.lift_days: dict[int, set] = collections.defaultdict(set)
        for day, data in self.entries:
            if isinstance(data, RunLogged) and data.kind is not RunKind.WALK:
                self.run_km[week_of(day)] += data.distance_km
                self.runs[week_of(day)] += 1
            elif isinstance(data, LiftLogged):
                self.lift_days[week_of(day)].add(day)

    def of(self, kind: type) -> list[tuple[dt.date, object]]:
        return [(d, x) for d, x in self.entries if isinstance(x, kind)]

    def first(self, predicate) -> dt.date | None:
        return next((d for d, x in self.entries if predicate(x)), None)

    @property
    def first_walk_run(self) -> dt.date | None:
        return self.first(lambda x: isinstance(x, RunLogged) and x.kind is RunKind.WALK_RUN)

    @property
    def first_plyometric(self) -> dt.date | None:
        return self.first(lambda x: isinstance(x, (PlyometricLogged, ReadinessTestRecorded)))

    def pain_settled_on(self) -> dt.date | None:
        """First day closing 7 days with >= 5 rest/next-morning reports, all <= 2."""
        pains = [(d, x.score) for d, x in self.of(PainReported) if x.context in (Context.REST, Context.NEXT_MORNING)]
        for day, _ in pains:
            window = [s for d, s in pains if day - dt.timedelta(days=6) <= d <= day]
            if len(window) >= 5 and max(window) <= 2:
                return day
        return None

    def exits_at_pain_relief(self) -> bool:
        """Drop-off 1: after pain settles, before plyometrics/walk-run, running near pre-injury
        volume, or strength logging stopping for >= 14 days while other logs go on."""
        settled = self.pain_settled_on()
        if settled is None:
            return False
        limit = min(d for d in (self.first_plyometric, self.first_walk_run, self.last_day) if d is not None)
        if any(self.run_km[w] >= 0.8 * self.pre_km for w in range(week_of(settled), week_of(limit))):
            return True
        lifts = [d for d, _ in self.of(LiftLogged) if d < limit]
        logged_days = {d for d, _ in self.entries}
        for before, after in zip(lifts, lifts[1:] + [limit]):
            if before >= settled and (after - before).days >= 14 and \
                    sum(1 for d in logged_days if before < d < after) >= 5:
                return True
        return False

    def low_load_strength_weeks(self) -> float:
        """Drop-off 2: longest run of days (before plyometrics) whose squat-family lifts are all
        low-load (reps > 12 or RPE < 6), in weeks; needs >= 4 lift days."""
        limit = self.first_plyometric or dt.date.max
        best, start, days = 0.0, None, set()
        for day, lift in self.of(LiftLogged):
            if lift.exercise not in HEAVY_LIFTS or day >= limit:
                continue
            if lift.reps > 12 or lift.rpe < 6:
                if start is None:
                    start, days = day, set()
                days.add(day)
                if len(days) >= 4:
                    best = max(best, (day - start).days / 7)
            else:
                start = None
        return best

    def intense_before_volume(self) -> bool:
        """Drop-off 3: after the first walk-run, an intense or RPE >= 7 run before the first week at
        pre-injury volume."""
        started = self.first_walk_run
        if started is None:
            return False
        volume_week = min((w for w, km in self.run_km.items() if w >= week_of(started) and km >= self.pre_km),
                          default=None)
        return any(
            d >= started and (volume_week is None or week_of(d) < volume_week)
            and (x.kind in INTENSE_RUN_KINDS or (x.kind not in (RunKind.WALK, RunKind.WALK_RUN) and x.rpe >= 7))
            for d, x in self.of(RunLogged))

    def strength_dropped_after_return(self) -> bool:
        """Drop-off 4: after two weeks at pre-injury volume (walk-run path), two complete weeks
        with < 2 lift days while still running."""
        started = self.first_walk_run
        if started is None:
            return False
        last_complete = week_of(self.last_day) - (0 if self.last_day.weekday() == 6 else 1)
        back = next((w for w in range(week_of(started) + 1, last_complete + 1)
                     if self.run_km[w] >= self.pre_km and self.run_km[w - 1] >= self.pre_km), None)
        if back is None:
            return False
        return any(len(self.lift_days[w]) < 2 and len(self.lift_days[w + 1]) < 2 and self.runs[w] and self.runs[w + 1]
                   for w in range(back + 1, last_complete))

    def longest_silence_days(self) -> int:
        days = sorted({s.send_at.astimezone(self.zone).date() for s in self.submissions})
        return max(((b - a).days - 1 for a, b in zip(days, days[1:])), default=0)


@pytest.fixture(scope="session")
def cohort() -> list[Submission]:
    return list(simulate_cohort(athletes=50, weeks=16, seed=1))


@pytest.fixture(scope="session")
def logs(cohort) -> dict[str, AthleteLog]:
    by_athlete: dict[str, list[Submission]] = collections.defaultdict(list)
    for submission in cohort:
        by_athlete[submission.athlete_id].append(submission)
    return {athlete_id: AthleteLog(subs) for athlete_id, subs in sorted(by_athlete.items())}
