"""The advice in force (engine/advice.py): one current piece of advice per topic, with local dates."""

from __future__ import annotations

import datetime as dt

import pytest

from advice_support import MONDAY, enrol, issued, record, withdrawn
from engine import pipeline
from engine.advice import UnknownAthlete, advice_in_force
from engine.policies.base import load_policy
from engine.runtime import DEFAULT_POLICY
from events.vocabulary import WithdrawalReason

ATHLETE = "ath-1"
LATER = MONDAY + dt.timedelta(days=3)


def test_issued_advice_is_in_force_on_its_topic(store):
    """Given a deload issued on the pain topic, when the advice in force is read, then the pain
    topic carries that deload with its explanation, targets and policy."""
    enrol(store, ATHLETE)
    deload = issued("pain", "deload", MONDAY, target={"squat_kg": 40.0}, explanation="pain 5/10: squat 50 -> 40 kg")
    record(store, ATHLETE, deload)
    advice = advice_in_force(store, ATHLETE, at=LATER)
    [item] = advice.items
    assert (item.topic, item.recommendation_id, item.kind) == ("pain", deload.recommendation_id, "deload")
    assert (item.explanation, item.target, item.policy_name) == ("pain 5/10: squat 50 -> 40 kg",
                                                                 {"squat_kg": 40.0}, "baseline")
    assert (advice.athlete_id, advice.as_of, advice.version) == (ATHLETE, LATER, 1)


def test_advice_that_supersedes_replaces_the_previous_one_on_its_topic(store):
    """Given a hold on the squat, then a progress superseding it, when read, then only the progress
    is in force on that topic; the other topics keep theirs."""
    enrol(store, ATHLETE)
    hold = issued("strength:squat", "hold", MONDAY, target={"load_kg": 50.0})
    flag = issued("adherence", "flag", MONDAY)
    progress = issued("strength:squat", "progress", MONDAY + dt.timedelta(days=2), target={"load_kg": 55.0},
                      supersedes=hold)
    record(store, ATHLETE, hold, flag, progress)
    advice = advice_in_force(store, ATHLETE, at=LATER)
    assert [(i.topic, i.recommendation_id) for i in advice.items] == [
        ("adherence", flag.recommendation_id), ("strength:squat", progress.recommendation_id)]


def test_withdrawn_advice_leaves_its_topic_empty(store):
    """Given a deload and a flag, then the deload withdrawn as a correction, when read, then the
    pain topic has no advice and the flag stands."""
    enrol(store, ATHLETE)
    deload, flag = issued("pain", "deload", MONDAY), issued("adherence", "flag", MONDAY)
    record(store, ATHLETE, deload, flag, withdrawn(deload, MONDAY + dt.timedelta(hours=1)))
    advice = advice_in_force(store, ATHLETE, at=LATER)
    assert [i.topic for i in advice.items] == ["adherence"] and advice.topic("pain") is None
    assert advice.version == 3


def test_a_withdrawal_of_advice_already_replaced_leaves_the_successor(store):
    """Given a hold replaced by a progress, then a late withdrawal naming the old hold, when read,
    then the progress is still in force."""
    enrol(store, ATHLETE)
    hold = issued("strength:squat", "hold", MONDAY)
    progress = issued("strength:squat", "progress", MONDAY + dt.timedelta(days=1), supersedes=hold)
    record(store, ATHLETE, hold, progress, withdrawn(hold, MONDAY + dt.timedelta(days=2),
                                                     WithdrawalReason.NO_LONGER_HOLDS))
    assert advice_in_force(store, ATHLETE, at=LATER).topic("strength:squat").recommendation_id == \
        progress.recommendation_id


def test_advice_withdrawn_for_advice_on_another_topic_is_gone(store):
    """Given a walk-run progression, then a phase change that supersedes it from another topic,
    when read, then only the phase change is in force."""
    enrol(store, ATHLETE)
    walk_run = issued("run:walk_run", "progress", MONDAY)
    phase = issued("phase", "advance_phase", MONDAY + dt.timedelta(days=1))
    record(store, ATHLETE, walk_run, phase,
           withdrawn(walk_run, phase.decision_time, WithdrawalReason.SUPERSEDED, superseded_by=phase))
    assert [i.topic for i in advice_in_force(store, ATHLETE, at=LATER).items] == ["phase"]


def test_at_reads_the_advice_in_force_at_an_earlier_moment(store):
    """Given a deload withdrawn on Tuesday, when the advice is read as of Monday evening, then the
    deload is still in force; as of Wednesday it is not."""
    enrol(store, ATHLETE)
    deload = issued("pain", "deload", MONDAY)
    record(store, ATHLETE, deload, withdrawn(deload, MONDAY + dt.timedelta(days=1)))
    assert [i.kind for i in advice_in_force(store, ATHLETE, at=MONDAY + dt.timedelta(hours=10)).items] == ["deload"]
    assert advice_in_force(store, ATHLETE, at=MONDAY + dt.timedelta(days=2)).items == []


def test_dates_are_local_to_the_athletes_time_zone(store):
    """Given an athlete in Auckland (UTC+13 in March) and advice decided at 20:00 UTC on Monday,
    when read, then the advice and the plan are dated Tuesday, in that zone."""
    enrol(store, ATHLETE, time_zone="Pacific/Auckland")
    record(store, ATHLETE, issued("pain", "hold", MONDAY.replace(hour=20)))
    advice = advice_in_force(store, ATHLETE, at=MONDAY.replace(hour=21))
    assert advice.time_zone == "Pacific/Auckland" and advice.local_date == dt.date(2026, 3, 3)
    assert advice.items[0].local_date == dt.date(2026, 3, 3)


def test_the_time_zone_comes_from_the_projection_once_the_projector_ran(store):
    """Given an athlete enrolled in New York and projected, when read, then the zone is the
    projection's."""
    enrol(store, ATHLETE, time_zone="America/New_York")
    pipeline.project_athlete(store, ATHLETE, load_policy(DEFAULT_POLICY))
    assert pipeline.load_state(store, ATHLETE)[0].profile.enrolled
    assert advice_in_force(store, ATHLETE, at=LATER).time_zone == "America/New_York"


def test_an_athlete_without_advice_has_an_empty_plan(store):
    """Given an enrolled athlete with no recommendations, when read, then there are no items."""
    enrol(store, ATHLETE)
    advice = advice_in_force(store, ATHLETE, at=LATER)
    assert (advice.items, advice.version, advice.local_date) == ([], 0, LATER.date())


def test_an_unknown_athlete_or_a_naive_moment_is_refused(store):
    """Given no events for an athlete, when read, then UnknownAthlete; a naive ``at`` is a ValueError."""
    with pytest.raises(UnknownAthlete):
        advice_in_force(store, "nobody", at=LATER)
    enrol(store, ATHLETE)
    with pytest.raises(ValueError, match="timezone-aware"):
        advice_in_force(store, ATHLETE, at=dt.datetime(2026, 3, 5))
