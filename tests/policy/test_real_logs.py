"""Real logs: late, batched and corrected (RULES.md section 7, and the correction step-back of section 1).

One decision point per submitted batch (events sharing ``recorded_at``), days placed by
``occurred_at``, rules about "the latest" entry judging everything that arrived since the previous
decision point, and advice that no longer holds withdrawn explicitly: ``correction`` when the batch
retracted or amended an entry, ``superseded`` when other advice covers it, else ``no_longer_holds``.
"""

from __future__ import annotations

import pytest
from policy_support import READINESS, RUN_DAY, at, day_of, in_force, issued, phase_changes, rule, topic, withdrawn

from engine.scenarios import History
from events.vocabulary import LiftLogged, PainReported, ReadinessTestRecorded, RunLogged

LADDER_DONE = RUN_DAY + 49  # the Monday after the compliant walk-run ladder


# -- batches ------------------------------------------------------------------------------------


@pytest.mark.parametrize("symmetry_first", [False, True], ids=["symmetry_last", "symmetry_first"])
def test_rules_7_a_readiness_session_in_one_batch_with_a_failed_hop_symmetry_does_not_advance(
        policy, journey, symmetry_first):
    """Given the four readiness tests passed and a hop symmetry of 85% logged as five events of one batch
    (in either order), then the session is judged as a whole: no advance to return_to_run."""
    j = journey().to_plyometric().plyometric(tests=False)
    with j.h.day(j.d).batch():
        if symmetry_first:
            j.h.readiness("hop_symmetry", result=85.0)
        for test in READINESS:
            j.h.readiness(test)
        if not symmetry_first:
            j.h.readiness("hop_symmetry", result=85.0)
    state, events = j.h.replay(policy, horizon=at(j.d + 2))
    assert rule(issued(events), "phase.plyometric_exit") == []
    assert state.phase.phase == "plyometric"


def test_rules_7_no_advice_between_two_events_of_one_submission(policy, journey):
    """Given a squat session and a red pain score submitted together, then only the pain deload (carrying
    the squat) is issued: no strength plan goes out for the instant between the two events."""
    j = journey().to_strength()
    with j.h.day(8).batch():
        j.h.lift("squat", 60, 15, 3, rpe=8).pain(7, "during")
    _, events = j.h.replay(policy)
    assert [(e.topic, e.kind) for e in events if day_of(e) == 8] == [("pain", "deload")]
    assert events[-1].target["squat_kg"] == 54.0


def test_rules_7_a_batch_of_five_days_of_logs_raises_no_silence_flag(policy, journey):
    """Given an athlete whose app sends days 7-11 (five days of pain scores) in one batch on the evening of
    day 11, then no "nothing logged for 5 days" flag is ever raised."""
    j = journey().to_strength()  # last submission: day 7 at 08:00
    with j.h.day(11, hour=22).batch():
        for d in range(7, 12):
            j.h.log(PainReported(score=1, context="after"), occurred_at=at(d, 20))
    _, events = j.h.replay(policy, horizon=at(15))
    assert [e for e in events if e.topic == "dropoff:silent"] == []


def test_rules_7_a_silence_flag_is_withdrawn_when_the_missing_days_arrive(policy, journey):
    """Given five silent days (flagged at day 13's midnight), then the batch that fills them in withdraws
    the flag (no_longer_holds), so the coach does not keep a stale flag."""
    j = journey().to_strength()
    j.h.day(8).pain(1, "rest")
    with j.h.day(14, hour=20).batch():
        for d in range(9, 15):
            j.h.log(PainReported(score=1, context="rest"), occurred_at=at(d, 9))
    _, events = j.h.replay(policy, horizon=at(15))
    [flag] = topic(issued(events), "dropoff:silent")
    assert flag.decision_time == at(13)
    [gone] = withdrawn(events, "dropoff:silent")
    assert (gone.recommendation_id, gone.decision_time, gone.reason) == (
        flag.recommendation_id, at(14, 20), "no_longer_holds")


# -- late entries -------------------------------------------------------------------------------


def test_rules_7_a_run_synced_three_days_late_is_flagged_as_a_spike_and_does_not_raise_the_cap(policy, journey):
    """Given 2.5 km runs and a 9 km run on day +2 that the watch syncs on day +5, then the spike is flagged
    when it arrives (judged against the 30 days before its own day), and next Monday's long-run cap stays
    1.1 x the 5 km longest, not 9.9 km."""
    j = journey(weekly_km=40.0).to_return_to_run().walk_run()
    j.h.day(LADDER_DONE + 1).run(2.5, rpe=3)
    with j.h.day(LADDER_DONE + 5).happened(at(LADDER_DONE + 2, 7)):
        j.h.run(9, rpe=3)
    _, events = j.h.replay(policy, horizon=at(LADDER_DONE + 7))
    [spike] = topic(issued(events), "run:spike")
    assert spike.decision_time == at(LADDER_DONE + 5, 8)
    assert (spike.rationale["run_km"], spike.rationale["longest_30d_km"], spike.rationale["run_day_offset"]) == (
        9, 5.0, 3)
    plan = in_force(events, at(LADDER_DONE + 7))["run"]
    assert plan.decision_time == at(LADDER_DONE + 7)
    assert plan.target["long_run_cap_km"] == 5.5


def test_rules_7_a_late_entry_fills_its_own_day(policy, journey):
    """Given red pain from two days ago synced late, then it is placed on its own day: the deload names
    that day (pain_day_offset 2) and expires with that day's picture, not two days later."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 15, 3, rpe=8)
    with j.h.day(11).happened(at(9, 18)):
        j.h.pain(7, "during")
    _, events = j.h.replay(policy, horizon=at(13))
    [red] = topic(issued(events), "pain")
    assert (red.decision_time, red.rationale["pain_day_offset"]) == (at(11, 8), 2)
    assert [(w.decision_time, w.reason) for w in withdrawn(events, "pain")] == [(at(12), "no_longer_holds")]


# -- corrections --------------------------------------------------------------------------------


def test_rules_1_an_amended_readiness_test_steps_back_with_phase_correction(policy, journey):
    """Given the advance to return_to_run on day 70, then an amendment of its jog test to failed with pain 4
    regresses to plyometric (rule phase.correction), resuming it from its original entry day (49), and the
    running plan is withdrawn as superseded by that change."""
    j = journey().to_return_to_run()
    jog = [e for e in j.h.envelopes if isinstance(e.data, ReadinessTestRecorded)][-1]
    j.h.day(j.d).amend(jog, ReadinessTestRecorded(test=jog.data.test, passed=False, pain=4), "typo")
    state, events = j.h.replay(policy, horizon=at(j.d + 1))
    assert [(r, p) for r, p, _ in phase_changes(issued(events))][-2:] == [
        ("phase.plyometric_exit", "return_to_run"), ("phase.correction", "plyometric")]
    [step_back] = rule(issued(events), "phase.correction")
    assert step_back.rationale["correction"] is True and step_back.rationale["from_phase"] == "return_to_run"
    assert (state.phase.phase, day_of_ordinal(state.phase.entered_day)) == ("plyometric", 49)
    [run] = withdrawn(events, "run")
    assert (run.reason, run.superseded_by) == ("superseded", step_back.recommendation_id)


def test_rules_1_a_retracted_heavy_session_steps_back_with_phase_correction(policy, journey):
    """Given the advance to plyometric on day 49, then retracting the squat and calf sessions of two days of
    the first strength block (leaving one heavy day in it) fails the six-full-weeks gate: back to
    strength by phase.correction."""
    j = journey().to_plyometric()
    first_block = [e for e in j.h.envelopes if isinstance(e.data, LiftLogged) and 7 <= (e.occurred_at - at(0)).days
                   <= 13][:4]
    with j.h.day(j.d).batch():
        for e in first_block:
            j.h.retract(e, "logged twice")
    state, events = j.h.replay(policy)
    [step_back] = rule(issued(events), "phase.correction")
    assert step_back.target == {"phase": "strength"}
    assert state.phase.phase == "strength"


def test_rules_7_an_amended_pain_typo_withdraws_its_deload_as_a_correction(policy, journey):
    """Given pain 8 (a typo for 3) and its deload, then the amendment withdraws the deload with reason
    correction, and the strength plan is back in force."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 6, 3, rpe=8)
    typo = j.h.log(PainReported(score=8, context="during"))
    j.h.day(8, hour=9).amend(typo, PainReported(score=3, context="during"), "typo")
    _, events = j.h.replay(policy)
    [deload] = rule(issued(events), "pain.traffic_light_red")
    [gone] = withdrawn(events, "pain")
    assert (gone.recommendation_id, gone.reason, gone.decision_time) == (deload.recommendation_id, "correction",
                                                                         at(8, 9))
    assert in_force(events)["strength"].decision_time == at(8, 9)


def test_rules_7_a_retracted_tempo_run_withdraws_dropoff_3_as_a_correction(policy, journey):
    """Given a tempo run in return_to_run (drop-off 3 flagged), then its retraction withdraws the flag with
    reason correction."""
    j = journey().to_return_to_run()
    tempo = j.h.day(RUN_DAY + 2).log(RunLogged(distance_km=3, duration_min=15, rpe=6, kind="tempo"))
    j.h.day(RUN_DAY + 2, hour=12).retract(tempo, "not my run")
    _, events = j.h.replay(policy)
    [flag] = topic(issued(events), "dropoff:3")
    [gone] = withdrawn(events, "dropoff:3")
    assert (gone.recommendation_id, gone.reason) == (flag.recommendation_id, "correction")
    assert "dropoff:3" not in in_force(events)


def day_of_ordinal(ordinal: int) -> int:
    return ordinal - at(0).date().toordinal()


@pytest.mark.parametrize("scores", [(1, 4), (4, 1)], ids=["settled_first", "sore_first"])
def test_rules_7_a_batch_of_rest_scores_is_judged_as_one_day_whatever_their_order(policy, scores):
    """Given a settling athlete who runs 5 km a day and sends rest pain 1 and 4 for the same day in one
    batch (in either order), then the day's rest pain is 4, not settled: no drop-off 1 either way."""
    h = History(weekly_km=20.0, longest_km=8.0)
    for d in range(5):
        with h.day(d).batch():
            h.run(5, rpe=4)
            for score in scores:
                h.pain(score, "rest")
    assert rule(h.recommendations(policy), "dropoff.1_exit_at_pain_relief") == []
