"""What the coach receives (RULES.md section 8): little noise. A compliant athlete gets about three
recommendations a week or fewer; one pain event gives one deload carrying every exercise's reduced
target; no topic says two contradicting things on the same day; kinds are honest."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

from policy_support import INTEGRATION_DAY, at, day_of, issued, rule, topic, withdrawn

SEVERITY = {"progress": 0, "hold": 1, "deload": 2}


def test_rules_8_a_compliant_athlete_gets_about_three_recommendations_a_week_or_fewer(policy, journey):
    """Given the compliant journey through all five phases and four weeks of integration, then the
    recommendations issued per week have a median of at most 3, and no week has more than 5 (the weeks
    of a phase change included)."""
    j = journey().to_integration().run_block(28, 6.0)
    recs = j.h.recommendations(policy, horizon=at(j.d))
    per_week = Counter(day_of(r) // 7 for r in recs)
    weeks = [per_week.get(w, 0) for w in range(j.d // 7)]
    assert statistics.median(weeks) <= 3
    assert max(weeks) <= 5


def test_rules_8_one_red_score_gives_one_deload_carrying_every_exercise(policy, journey):
    """Given squat, deadlift and bodyweight calf raises on day 8 and a red pain score on day 9, then ONE
    recommendation at that decision point: the pain deload, carrying every exercise's reduced target
    (loads x 0.9, bodyweight reps x 0.9); the strength plan is withdrawn as superseded by it."""
    j = journey().to_strength()
    with j.h.day(8).batch():
        j.h.lift("squat", 70, 6, 3, rpe=8).lift("deadlift", 80, 6, 3, rpe=8)
        j.h.lift("calf_raise_single_leg", 0, 15, 3, rpe=8)
    j.h.day(9).pain(7, "during")
    _, events = j.h.replay(policy)
    [deload] = [e for e in issued(events) if e.decision_time == at(9, 8)]
    assert (deload.topic, deload.kind) == ("pain", "deload")
    assert deload.target == {"load_factor": 0.9, "sets": 3, "reps": 15,
                             "squat_kg": 50.5, "squat_sets": 3, "squat_reps": 15,
                             "deadlift_kg": 57.5, "deadlift_sets": 3, "deadlift_reps": 15,
                             "calf_raise_single_leg_sets": 3, "calf_raise_single_leg_reps": 14}
    [plan] = withdrawn(events, "strength")
    assert (plan.reason, plan.superseded_by) == ("superseded", deload.recommendation_id)


def _irritable(journey):
    """Strength phase, three pain reports a day for three weeks cycling 4, 2, 6, 3, 5, 1, 0, 7 (morning,
    during, during), a squat every other morning."""
    j = journey().to_strength()
    scores, k = [4, 2, 6, 3, 5, 1, 0, 7], 0
    for d in range(8, 29):
        for hour in (8, 13, 20):
            h = j.h.day(d, hour=hour)
            if hour == 8 and d % 2 == 0:
                h.lift("squat", 60, 8, 3, rpe=8)
            h.pain(scores[k % len(scores)], "next_morning" if hour == 8 else "during")
            k += 1
    return j


def test_rules_8_no_topic_says_two_contradicting_things_on_one_day(policy, journey):
    """Given an irritable athlete, then within any local day each topic's advice only escalates (progress,
    hold, deload): it never says deload and then hold, or hold and then progress, on the same day."""
    recs = _irritable(journey).h.recommendations(policy, horizon=at(30))
    kinds = defaultdict(list)
    for r in recs:
        if r.kind in SEVERITY:
            kinds[(r.topic, day_of(r))].append(SEVERITY[r.kind])
    assert kinds and all(seq == sorted(seq) for seq in kinds.values()), kinds


def test_rules_8_one_pain_decision_gives_at_most_one_deload(policy, journey):
    """Given the irritable athlete, then no decision point issues more than one deload."""
    recs = _irritable(journey).h.recommendations(policy, horizon=at(30))
    deloads = Counter(r.decision_time for r in recs if r.kind == "deload")
    assert deloads and max(deloads.values()) == 1


def test_rules_8_progress_is_honest_over_a_whole_rehab(policy, journey):
    """Over the compliant journey, every running plan labelled progress raises the weekly volume above last
    week's, and every walk-run progress moves up a level from the plan before it."""
    recs = journey().to_integration().h.recommendations(policy, horizon=at(INTEGRATION_DAY + 14))
    plans = topic(recs, "run")
    for before, after in zip(plans, plans[1:]):
        if after.kind == "progress" and "walk_run_level" in after.target and "walk_run_level" in before.target:
            assert after.target["walk_run_level"] > before.target["walk_run_level"]
        if after.kind == "progress" and "weekly_km" in after.target:
            assert after.target["weekly_km"] > after.rationale["last_week_km"]
    assert rule(recs, "run.volume_progress")
