"""Bone stress injuries (RULES.md sections 1, 3, 4; Warden 2021, George 2024): their own settle rule,
clinician clearance for high-risk sites, and any pain while running stops running."""

from __future__ import annotations

import datetime as dt

from policy_support import STRENGTH_DAY, at, day_of, in_force, issued, phase_changes, rule, topic, withdrawn

from engine.scenarios import History
from events.vocabulary import InjuryReported


def _bsi(site: str) -> InjuryReported:
    return InjuryReported(injury_type="bone_stress", bone_site=site, onset_date=dt.date(2026, 2, 20))


def _settling(site: str, days: int, walk: float = 30.0, tender_days: frozenset[int] = frozenset()) -> History:
    h = History(injury=_bsi(site))
    for d in range(days):
        h.day(d).pain(0, "rest", bony_tenderness=d in tender_days)
        if walk:
            h.run(walk / 12, walk, rpe=2, kind="walk")
    return h


def test_bsi_settles_on_a_pain_free_thirty_minute_walk(policy):
    """Low-risk BSI: 30-min pain-free walks and no bony tenderness advance to strength on day 7."""
    recs = _settling("posteromedial_tibia", 8).recommendations(policy)
    [advance] = rule(recs, "phase.settle_exit")
    assert advance.decision_time == at(STRENGTH_DAY)
    assert advance.rationale["longest_walk_min"] == 30.0
    assert advance.rationale["bsi_walk_minutes"] == 30.0
    assert advance.rationale["bony_tenderness"] is False
    assert "clinician_clearance" not in advance.rationale


def test_bsi_does_not_settle_without_the_walk(policy):
    """Pain-free rest alone is not enough for a bone stress injury."""
    state, _ = _settling("posteromedial_tibia", 14, walk=0).replay(policy)
    assert state.phase.phase == "settle"


def test_bsi_does_not_settle_on_a_short_walk(policy):
    """20-minute walks fall short of the 30-minute test."""
    state, _ = _settling("posteromedial_tibia", 14, walk=20).replay(policy)
    assert state.phase.phase == "settle"


def test_bsi_walk_with_pain_does_not_count(policy):
    """30-minute walks with pain 3 during them are not pain-free walks."""
    h = History(injury=_bsi("metatarsal_shaft"))
    for d in range(14):
        h.day(d).pain(0, "rest").run(2.5, 30, rpe=2, kind="walk").pain(3, "during")
    state, _ = h.replay(policy)
    assert state.phase.phase == "settle"


def test_bony_tenderness_delays_bsi_settle(policy):
    """Bony tenderness on day 5 keeps the athlete settling until it leaves the 7-day window (day 13)."""
    h = _settling("posteromedial_tibia", 14, tender_days=frozenset({5}))
    [(rule_id, phase, when)] = phase_changes(h.recommendations(policy))
    assert (rule_id, phase, when) == ("phase.settle_exit", "strength", at(13))


def test_high_risk_site_is_flagged_for_clearance(policy):
    """A navicular BSI raises bsi.clearance_required once, when the injury is reported."""
    recs = _settling("navicular", 12).recommendations(policy)
    [flag] = rule(recs, "bsi.clearance_required")
    assert flag.kind == "flag" and flag.topic == "clinician"
    assert flag.target == {"refer_to_clinician": True}
    assert flag.rationale == {"bone_site": "navicular"}
    assert flag.trigger_position == 2


def test_high_risk_site_does_not_advance_without_clearance(policy):
    """Three weeks of perfect settling at a high-risk site without clearance stay in settle."""
    state, recs = _settling("femoral_neck", 21).replay(policy)
    assert state.phase.phase == "settle"
    assert phase_changes(recs) == []


def test_clearance_unlocks_a_high_risk_site(policy):
    """A running clearance on day 10 advances the athlete at once and withdraws the flag."""
    h = _settling("navicular", 10)
    h.day(10).clearance("running")
    state, recs = h.replay(policy, horizon=at(12))
    [advance] = rule(recs, "phase.settle_exit")
    assert advance.trigger_position == len(h.envelopes)
    assert advance.rationale["clinician_clearance"] is True
    assert state.memory.get("clinician") is None
    assert state.phase.phase == "strength"


def _bsi_runner(journey, site="posteromedial_tibia"):
    j = journey(injury=_bsi(site))
    j.settle(walk_minutes=30).strength().plyometric()
    return j


def _painful_level_3(journey):
    """A low-risk BSI runner on the walk-run ladder: levels 1 and 2 done, pain 1 during level 3 on day 79."""
    j = _bsi_runner(journey)
    for d, level in [(71, 1), (73, 1), (75, 2), (77, 2), (79, 3)]:
        j.h.day(d).run(2.0, 20, rpe=3, kind="walk_run", level=level)
    j.h.pain(1, "during")
    return j


def test_bsi_pain_while_running_stops_running(policy, journey):
    """Given pain 1 during a level-3 walk-run, then bsi.running_pain: no running for 3 days, back to
    level 2, covering the running plan."""
    j = _painful_level_3(journey)
    [bsi] = rule(j.h.recommendations(policy, horizon=at(84)), "bsi.running_pain")
    assert (bsi.kind, bsi.topic, day_of(bsi)) == ("deload", "bsi", 79)
    assert bsi.target == {"no_running_days": 3, "walk_run_level": 2}
    assert bsi.rationale["level"] == 3 and bsi.rationale["bone_site"] == "posteromedial_tibia"


def test_rules_4_bsi_pain_repeats_the_lower_level_before_the_one_that_hurt(policy, journey):
    """Given BSI pain at level 3 on day 79, then the running plan is superseded by the BSI deload (one
    advice for one pain event); after the 3-day hold (withdrawn at day 82) the plan is level 2, not the
    level that hurt; level 2 done twice pain-free (days 82, 84) brings back level 3."""
    j = _painful_level_3(journey)
    j.h.day(82).run(2.0, 20, rpe=3, kind="walk_run", level=2)
    j.h.day(84).run(2.0, 20, rpe=3, kind="walk_run", level=2)
    _, events = j.h.replay(policy, horizon=at(85))
    assert [(day_of(w), w.reason) for w in withdrawn(events, "bsi")] == [(82, "no_longer_holds")]
    assert in_force(events, at(82))["run"].target == {"walk_run_level": 2}
    assert [(day_of(r), r.kind, r.target["walk_run_level"]) for r in topic(issued(events), "run")
            if day_of(r) >= 79] == [(82, "deload", 2), (84, "progress", 3)]
    assert [(day_of(w), w.reason) for w in withdrawn(events, "run") if day_of(w) >= 79] == [(79, "superseded")]


def test_bsi_pain_outside_running_is_not_running_pain(policy, journey):
    """Pain on a day without a run is handled by the traffic light, not the BSI running rule."""
    j = _bsi_runner(journey)
    j.h.day(71).run(2.0, 20, rpe=3, kind="walk_run", level=1)
    j.h.day(72).pain(1, "after")
    assert rule(j.h.recommendations(policy, horizon=at(75)), "bsi.running_pain") == []


def test_non_bsi_pain_while_running_is_the_traffic_light(policy, journey):
    """For a tendinopathy, pain 1 while running is green: no BSI deload."""
    j = journey().to_return_to_run()
    j.h.day(71).run(2.0, 20, rpe=3, kind="walk_run", level=1).pain(1, "during")
    assert rule(j.h.recommendations(policy), "bsi.running_pain") == []
