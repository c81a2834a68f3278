"""The decision model for real logs (RULES.md 7, docs/policy.md): one decision point per batch,
advice superseded and withdrawn explicitly, corrections visible, backfills decided day by day."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import pipeline
from engine.advice import advice_in_force
from engine.clock import ManualClock
from engine.decisions import advance
from engine.policies.base import Advice
from engine.policies.baseline import BaselinePolicy
from engine.runtime import build_runtime
from engine.scenarios import History
from engine.store import SQLiteEventStore
from events import recommendation_stream
from events.vocabulary import PainReported, RecommendationIssued, RecommendationWithdrawn
from projections.athlete import AthleteState

POLICY = BaselinePolicy()


class EchoPolicy:
    """Advises the folded stream version, so every decision point that sees new events is news."""

    name, version, config = "echo", "1", None

    def decide(self, state, decision_time):
        return [Advice(topic="echo", kind="hold", rule_id="echo", explanation="echo",
                       target={"version": state.version})]


class ScriptedPolicy:
    """Advice per topic read from the log itself: a pain score of N at rest means topic ``tN``
    holds; ``covers`` makes topic ``t9`` speak for every other topic."""

    name, version, config = "scripted", "1", None

    def decide(self, state, decision_time):
        scores = sorted({e.data.score for e in state.entries.values() if isinstance(e.data, PainReported)})
        return [Advice(topic=f"t{n}", kind="hold", rule_id=f"r{n}", explanation=f"topic {n}",
                       covers=("t",) if n == 9 else ()) for n in scores]


def test_a_batch_is_one_decision_point():
    """Given three events sent in one submission, the policy decides once, after all three."""
    h = History()
    with h.day(1).batch():
        h.pain(1).pain(2).pain(3)
    echoes = [r for r in h.recommendations(EchoPolicy()) if r.decision_time >= h.start + dt.timedelta(days=1)]
    assert [r.target["version"] for r in echoes if r.decision_time.hour == 8] == [5]
    assert echoes[-1].trigger_position == h.envelopes[-1].position


def test_a_batch_read_in_two_chunks_still_decides_once():
    """Given a batch split across two reads (complete=False for the first), the recommendations are
    those of one pass."""
    h = History()
    with h.day(1).batch():
        h.pain(1).pain(2).pain(3)
    h.day(2).pain(0)
    whole = advance(AthleteState(athlete_id=h.athlete_id), h.envelopes, EchoPolicy())
    state = AthleteState(athlete_id=h.athlete_id)
    parts = advance(state, h.envelopes[:3], EchoPolicy(), complete=False) + \
        advance(state, h.envelopes[3:], EchoPolicy())
    assert parts == whole


def test_advice_that_disappears_is_withdrawn_as_no_longer_holding():
    """Given advice on t1, when the entry behind it is retracted the next decision withdraws it."""
    h = History()
    first = h.day(1).log(PainReported(score=1, context="rest"))
    h.day(2).retract(first)
    withdrawn = h.withdrawals(ScriptedPolicy())
    issued = [r for r in h.recommendations(ScriptedPolicy()) if r.topic == "t1"]
    assert [(w.topic, w.reason, w.recommendation_id) for w in withdrawn] == \
        [("t1", "correction", issued[0].recommendation_id)]


def test_a_covering_advice_supersedes_what_it_speaks_for():
    """Given advice on t1, when t9 (which covers every t-topic) replaces it, t1 is withdrawn as
    superseded by t9's recommendation."""
    h = History()
    first = h.day(1).log(PainReported(score=1, context="rest"))
    with h.day(2).batch():
        h.retract(first).pain(9)
    state, events = h.replay(ScriptedPolicy())
    [withdrawn] = [e for e in events if isinstance(e, RecommendationWithdrawn)]
    [t9] = [e for e in events if isinstance(e, RecommendationIssued) and e.topic == "t9"]
    assert (withdrawn.topic, withdrawn.reason, withdrawn.superseded_by) == ("t1", "superseded", t9.recommendation_id)


def test_changed_advice_names_the_recommendation_it_supersedes():
    """Given echo advice at one batch, the next batch's advice on the same topic supersedes it."""
    h = History()
    h.day(1).pain(1)
    h.day(1, hour=9).pain(2)
    echoes = [r for r in h.recommendations(EchoPolicy()) if r.decision_time.day >= 3]
    assert echoes[-1].supersedes == echoes[-2].recommendation_id


def test_a_phase_change_stays_in_force():
    """Given an advance to strength, the phase topic is never withdrawn while nothing else changes."""
    h = History()
    for d in range(9):
        h.day(d).pain(1)
    phase = [r for r in h.recommendations(POLICY) if r.topic == "phase"]
    assert [r.target["phase"] for r in phase] == ["strength"]
    assert [w for w in h.withdrawals(POLICY) if w.topic == "phase"] == []


def test_withdrawal_ids_are_deterministic_and_distinct_from_recommendation_ids():
    """Given the same log twice, withdrawals have the same ids, none equal to a recommendation id."""
    h = History()
    first = h.day(1).log(PainReported(score=1, context="rest"))
    h.day(2).retract(first)
    one, two = h.replay(ScriptedPolicy())[1], h.replay(ScriptedPolicy())[1]
    assert one == two
    issued = {r.recommendation_id for r in one if isinstance(r, RecommendationIssued)}
    assert all(w.withdrawal_id not in issued for w in one if isinstance(w, RecommendationWithdrawn))


# -- through the store: what apps and notifiers see -----------------------------------------------


def _enrol(at: dt.datetime) -> list[dict]:
    return [{"occurred_at": at.isoformat(), "data": {
        "type": "athlete.enrolled", "body_mass_kg": 70, "time_zone": "Europe/London",
        "pre_injury_weekly_km": 30, "pre_injury_longest_run_km": 12}},
        {"occurred_at": at.isoformat(), "data": {
            "type": "injury.reported", "injury_type": "tendinopathy", "onset_date": "2026-02-20"}}]


@pytest.fixture
def runtime(tmp_path):
    clock = ManualClock(dt.datetime(2026, 3, 2, 8, tzinfo=dt.timezone.utc))
    store = SQLiteEventStore(tmp_path / "s.sqlite3", clock=clock)
    yield build_runtime(store=store, clock=clock), clock
    store.close()


def test_an_amended_pain_typo_withdraws_its_deload_from_the_advice_in_force(runtime):
    """Given a red pain score that deloads, when the app amends it to 2/10, the recommendation
    stream withdraws the deload with reason correction and the advice in force has no pain topic."""
    rt, clock = runtime
    rt.ingestor.append("ath-1", _enrol(clock.now()))
    stored = rt.ingestor.append("ath-1", [{"occurred_at": clock.now().isoformat(),
                                           "data": {"type": "pain.reported", "score": 8, "context": "rest"}}])
    pipeline.project_athlete(rt.store, "ath-1", rt.policy)
    assert "pain" in {i.topic for i in advice_in_force(rt.store, "ath-1").items}
    clock.advance(dt.timedelta(hours=1))
    rt.ingestor.append("ath-1", [{"occurred_at": clock.now().isoformat(), "data": {
        "type": "entry.amended", "target_event_id": str(stored.events[0].event_id), "reason": "typo",
        "replacement": {"type": "pain.reported", "score": 2, "context": "rest"}}}])
    pipeline.project_athlete(rt.store, "ath-1", rt.policy)
    stream = [e.data for e in rt.store.read_stream(recommendation_stream("ath-1"))]
    [withdrawn] = [e for e in stream if isinstance(e, RecommendationWithdrawn) and e.topic == "pain"]
    assert withdrawn.reason == "correction"
    assert "pain" not in {i.topic for i in advice_in_force(rt.store, "ath-1").items}


def test_consecutive_appends_never_share_a_recorded_at(runtime):
    """Given a clock that does not move, two appends still get distinct, increasing recorded_at, so
    each is its own decision point."""
    rt, clock = runtime
    rt.ingestor.append("ath-1", _enrol(clock.now()))
    rt.ingestor.append("ath-1", [{"occurred_at": clock.now().isoformat(),
                                  "data": {"type": "pain.reported", "score": 1, "context": "rest"}}])
    recorded = [e.recorded_at for e in rt.store.read_stream("ath-1")]
    assert recorded[0] == recorded[1] < recorded[2]


def test_a_backfilled_diary_gets_its_day_by_day_decisions_up_to_the_horizon(runtime):
    """Given five days of logs sent in one batch and then silence, project_athlete with a horizon
    decides the batch once (no silence flag for the backfill) and the midnights after it (a silence
    flag five days after the last log)."""
    rt, clock = runtime
    rt.ingestor.append("ath-1", _enrol(clock.now() - dt.timedelta(days=6)))
    days = [clock.now() - dt.timedelta(days=5 - d) for d in range(5)]
    rt.ingestor.append("ath-1", [{"occurred_at": d.isoformat(), "data": {
        "type": "pain.reported", "score": 1, "context": "rest"}} for d in days])
    horizon = clock.now() + dt.timedelta(days=10)
    pipeline.project_athlete(rt.store, "ath-1", rt.policy, horizon=horizon)
    silent = [r for r in pipeline.recommendations(rt.store, "ath-1")
              if isinstance(r, RecommendationIssued) and r.rule_id == "adherence.no_logs"]
    assert len(silent) == 1 and silent[0].decision_time > clock.now()


def test_a_naive_horizon_is_refused(runtime):
    """A horizon without a time zone is ambiguous: project_athlete refuses it."""
    rt, _ = runtime
    with pytest.raises(ValueError, match="aware"):
        pipeline.project_athlete(rt.store, "ath-1", rt.policy, horizon=dt.datetime(2026, 3, 9))
