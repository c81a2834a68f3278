"""A cohort: one seeded generator per athlete, merged by send time into one stream of submissions.

Athlete k draws everything from ``athlete_rng(seed, k)``, so its history does not depend on the
cohort size. Per-athlete generators are lazy and hold one day at a time; the heap merge holds one
pending submission per athlete, so memory grows with the number of athletes, never with weeks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import random
from collections.abc import Iterator
from operator import attrgetter
from typing import NamedTuple

from engine.simulation.athlete import SimulatedAthlete
from engine.simulation.profile import DEFAULT_MIX, AthleteProfile, CohortMix, dealt_habit, draw_profile
from engine.simulation.tissue import DEFAULT_TISSUE, TissueParams
from events.envelope import NewEvent

DEFAULT_START = dt.date(2026, 1, 5)
EVENTS_PER_ATHLETE_WEEK = 27.8
"""Measured mean (default mix); cohort_size_hint's factor."""
_ONE_DAY = dt.timedelta(days=1)


class Submission(NamedTuple):
    """What one athlete's app sends at once: a batch of events for one stream."""

    send_at: dt.datetime
    athlete_id: str
    events: list[NewEvent]


def athlete_rng(seed: int, index: int) -> random.Random:
    """The random stream of athlete ``index`` in cohort ``seed`` (independent of the cohort size)."""
    digest = hashlib.blake2b(f"strideline-simulator:{seed}:{index}".encode(), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


def make_athlete(index: int, seed: int = 1, start: dt.date = DEFAULT_START, *, mix: CohortMix = DEFAULT_MIX,
                 tissue: TissueParams = DEFAULT_TISSUE) -> SimulatedAthlete:
    """Athlete ``index`` of cohort ``seed``, ready to live day by day (for closed-loop evaluation)."""
    rng = athlete_rng(seed, index)
    profile = draw_profile(rng, index, dealt_habit(seed, index, mix), mix)
    return SimulatedAthlete(profile, rng, start, mix=mix, tissue=tissue)


def athlete_profiles(athletes: int, seed: int = 1, start: dt.date = DEFAULT_START, *,
                     mix: CohortMix = DEFAULT_MIX) -> list[AthleteProfile]:
    """The profiles (habits, injuries) of a cohort, for reports and tuning."""
    return [make_athlete(i, seed, start, mix=mix).profile for i in range(athletes)]


def simulate_athlete(index: int, weeks: int = 16, seed: int = 1, start: dt.date = DEFAULT_START, *,
                     mix: CohortMix = DEFAULT_MIX, tissue: TissueParams = DEFAULT_TISSUE) -> Iterator[Submission]:
    """One athlete's submissions (open loop) from enrolment to ``start + weeks``, in send order."""
    athlete = make_athlete(index, seed, start, mix=mix, tissue=tissue)
    athlete_id = athlete.athlete_id
    date = athlete.enrolled_on
    end = start + dt.timedelta(weeks=weeks)
    while date < end and not athlete.quit:
        for send, events in athlete.day_batches(date):
            yield Submission(send, athlete_id, events)
        date += _ONE_DAY


def simulate_cohort(athletes: int = 50, weeks: int = 16, seed: int = 1, start: dt.date = DEFAULT_START, *,
                    mix: CohortMix = DEFAULT_MIX, tissue: TissueParams = DEFAULT_TISSUE) -> Iterator[Submission]:
    """Every athlete's submissions, merged in non-decreasing ``send_at`` (ties: lower athlete first).

    Streaming: athletes are built lazily and only one day per athlete is held in memory.
    """
    if athletes < 0 or weeks < 0:
        raise ValueError("athletes and weeks must be >= 0")
    streams = [simulate_athlete(i, weeks, seed, start, mix=mix, tissue=tissue) for i in range(athletes)]
    return heapq.merge(*streams, key=attrgetter("send_at"))


def cohort_size_hint(athletes: int, weeks: int) -> int:
    """About how many events ``simulate_cohort(athletes, weeks)`` yields (for progress bars)."""
    return int(athletes * weeks * EVENTS_PER_ATHLETE_WEEK)
