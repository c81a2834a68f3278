"""What a 50-athlete, 16-week cohort's logs contain: the four drop-offs, silences, bone stress with
clearance, short sleep, under-fuelling, re-injury after overload, corrections and late logs."""

from __future__ import annotations

import collections
import datetime as dt

from engine.simulator import Habit, athlete_profiles
from events.vocabulary import (
    HIGH_RISK_BONE_SITES, ClearanceRecorded, EntryAmended, EntryRetracted, FuellingLogged, InjuryReported,
    InjuryType, LiftLogged, PlyometricLogged, ReadinessTest, ReadinessTestRecorded, RunKind, RunLogged,
    SleepLogged, event_type,
)
from events.vocabulary import ClientEvent

SEVERAL = 3


def _habits() -> dict[str, Habit]:
    return {p.athlete_id: p.habit for p in athlete_profiles(50, seed=1)}


def test_drop_off_1_exit_at_pain_relief(logs):
    """Several athletes stop strength or run near pre-injury volume once pain settles, before plyometrics."""
    assert sum(log.exits_at_pain_relief() for log in logs.values()) >= SEVERAL


def test_drop_off_2_low_load_strength_for_weeks(logs):
    """Several athletes lift only low-load (reps > 12 or RPE < 6) for >= 2 weeks; diligent ones never do."""
    habits = _habits()
    weeks = {aid: log.low_load_strength_weeks() for aid, log in logs.items()}
    assert sum(w >= 2 for w in weeks.values()) >= SEVERAL
    assert all(weeks[aid] < 2 for aid, habit in habits.items() if habit is Habit.DILIGENT)


def test_drop_off_3_intensity_before_volume(logs):
    """Several athletes run tempo/interval/race or at RPE >= 7 before reaching pre-injury volume; diligent ones never."""
    habits = _habits()
    early = {aid for aid, log in logs.items() if log.intense_before_volume()}
    assert len(early) >= SEVERAL
    assert not {aid for aid in early if habits[aid] is Habit.DILIGENT}


def test_drop_off_4_strength_dropped_after_return(logs):
    """Several athletes back at pre-injury volume then lift on < 2 days/week for 2 weeks running."""
    assert sum(log.strength_dropped_after_return() for log in logs.values()) >= SEVERAL


def test_some_athletes_go_silent_for_days(logs):
    """Several athletes log nothing for 4 days or more and then come back."""
    assert sum(log.longest_silence_days() >= 4 for log in logs.values()) >= SEVERAL


def test_bone_stress_athletes_at_high_risk_sites_get_clearance_before_walk_run(logs):
    """Bone stress injuries include high-risk sites; those athletes log a clearance before any walk-run."""
    cleared = 0
    high_risk = 0
    for log in logs.values():
        injury = log.events[1].data
        assert isinstance(injury, InjuryReported)
        if injury.injury_type is not InjuryType.BONE_STRESS or injury.bone_site not in HIGH_RISK_BONE_SITES:
            continue
        high_risk += 1
        clearance = log.first(lambda x: isinstance(x, ClearanceRecorded))
        cleared += clearance is not None
        if log.first_walk_run is not None:
            assert clearance is not None and clearance <= log.first_walk_run
    assert high_risk >= 2 and cleared >= 2
    assert sum(log.events[1].data.injury_type is InjuryType.BONE_STRESS for log in logs.values()) >= 5


def test_short_sleep_weeks_and_under_fuelling(logs):
    """Several athletes have weeks of < 7 h average sleep, and several log under-fuelled days most weeks."""
    short, under = 0, 0
    for log in logs.values():
        sleep = collections.defaultdict(list)
        for day, entry in log.of(SleepLogged):
            sleep[day.isocalendar()[:2]].append(entry.hours)
        short += any(len(h) >= 3 and sum(h) / len(h) < 7 for h in sleep.values())
        fuel = collections.Counter(day.isocalendar()[:2] for day, e in log.of(FuellingLogged) if e.under_fuelled)
        under += any(n >= 3 for n in fuel.values())
    assert short >= SEVERAL and under >= SEVERAL


def test_load_above_capacity_brings_reinjury(logs):
    """New injuries are reported after enrolment, more often by athletes who exit at pain relief than by diligent ones."""
    habits = _habits()
    reinjured = {aid for aid, log in logs.items() if len(log.of(InjuryReported)) > 1}
    assert len(reinjured) >= SEVERAL
    def rate(habit):
        members = [aid for aid, h in habits.items() if h is habit]
        return sum(aid in reinjured for aid in members) / len(members)
    assert rate(Habit.EXIT_AT_PAIN_RELIEF) > rate(Habit.DILIGENT)


def test_strength_follows_a_heavy_slow_resistance_ladder(logs):
    """Diligent squats progress 15 -> 12 -> 10 -> 8 reps with the load going up."""
    habits = _habits()
    ladders = 0
    for aid, log in logs.items():
        if habits[aid] is not Habit.DILIGENT:
            continue
        squats = [lift for _, lift in log.of(LiftLogged) if lift.exercise == "squat"]
        reps = [s.reps for s in squats]
        if all(r in reps for r in (15, 12, 10, 8)):
            ladders += 1
            assert reps.index(15) < reps.index(12) < reps.index(10) < reps.index(8)
            assert squats[reps.index(8)].load_kg > squats[reps.index(15)].load_kg
    assert ladders >= SEVERAL


def test_corrections_point_at_earlier_events_of_the_same_athlete(logs):
    """Amendments and retractions target an id this athlete sent before; amendments keep the type."""
    amended = retracted = 0
    for log in logs.values():
        seen = {}
        for event in log.events:
            if isinstance(event.data, (EntryAmended, EntryRetracted)):
                target = seen.get(event.data.target_event_id)
                assert target is not None, "correction of an unknown or later event"
                if isinstance(event.data, EntryAmended):
                    assert event_type(event.data.replacement) == event_type(target.data)
                    amended += 1
                else:
                    retracted += 1
            seen[event.event_id] = event
    assert amended >= SEVERAL and retracted >= 1


def test_some_logs_are_sent_hours_after_they_happened(cohort):
    """A share of events is backdated: sent two hours or more after occurring."""
    events = [(s.send_at, e) for s in cohort for e in s.events]
    late = [e for send, e in events if send - e.occurred_at >= dt.timedelta(hours=2)]
    assert len(late) >= 0.01 * len(events)


def test_the_logs_use_the_whole_vocabulary(cohort):
    """Every client event type, every key lift, walk-run levels 1-12, all run kinds, drills and tests appear."""
    data = [e.data for s in cohort for e in s.events]
    assert {event_type(d) for d in data} == {c.__struct_config__.tag for c in ClientEvent.__args__}
    assert {"calf_raise_single_leg", "squat", "split_squat", "deadlift"} <= {d.exercise for d in data if isinstance(d, LiftLogged)}
    runs = [d for d in data if isinstance(d, RunLogged)]
    assert {r.walk_run_level for r in runs if r.kind is RunKind.WALK_RUN} == set(range(1, 13))
    assert {r.kind for r in runs} == set(RunKind)
    assert len({d.drill for d in data if isinstance(d, PlyometricLogged)}) >= 5
    assert {d.test for d in data if isinstance(d, ReadinessTestRecorded)} == set(ReadinessTest)
