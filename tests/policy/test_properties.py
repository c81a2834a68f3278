"""Properties of the baseline policy over generated athlete diaries (hypothesis).

A diary starts from a compliant prefix (nothing, or the journey up to strength, plyometric,
return_to_run or integration) so every phase is reached, then continues with random but plausible
days: pain in any context (mostly low, sometimes red), lifts, runs of every kind, plyometrics, sleep,
fuelling, readiness tests, clearances, backdated pain, gaps of silence, and now and then a new injury.
Some diaries submit each day as one batch (one ``recorded_at``), as apps that sync do.
"""

from __future__ import annotations

import datetime as dt

import contextlib
import random

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_support import READINESS, Journey, RecordingPolicy, emissions, expected_emissions

from engine.decisions import advance
from engine.policies.baseline import BaselinePolicy
from engine.scenarios import History
from events.vocabulary import INTENSE_RUN_KINDS, InjuryReported, PainReported, RecommendationIssued, RunLogged
from projections.athlete import AthleteState
from projections.calendar import local_day

POLICY = BaselinePolicy()
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- the diary strategy ----------------------------------------------------------------------

low_pain = st.integers(0, 3)
any_pain = st.integers(0, 10)
pain_score = st.one_of(low_pain, low_pain, any_pain)

pain = st.tuples(st.just("pain"), pain_score, st.sampled_from(["rest", "during", "after", "next_morning"]),
                 st.sampled_from([False, False, False, True]))
lift = st.tuples(st.just("lift"), st.sampled_from(["squat", "calf_raise_single_leg", "deadlift"]),
                 st.sampled_from([10.0, 30.0, 50.0, 65.0, 80.0, 95.0]), st.integers(3, 20), st.integers(1, 5),
                 st.sampled_from([4.0, 5.5, 7.0, 8.0, 9.0]))
run = st.tuples(st.just("run"), st.sampled_from([2.0, 4.0, 5.0, 6.5, 8.0, 10.0, 14.0]),
                st.sampled_from(["easy", "easy", "easy", "long", "tempo", "interval", "race", "walk_run", "walk"]),
                st.sampled_from([2.0, 3.0, 4.0, 6.0, 7.0, 8.5]), st.integers(1, 12), st.floats(4.0, 8.0))
plyo = st.tuples(st.just("plyo"), st.sampled_from(["pogo", "double_leg_jump", "single_leg_hop"]),
                 st.integers(20, 150), low_pain)
sleep = st.tuples(st.just("sleep"), st.sampled_from([5.0, 6.0, 6.5, 7.5, 8.0, 9.0]))
fuel = st.tuples(st.just("fuel"), st.booleans())
readiness = st.tuples(st.just("readiness"), st.sampled_from(READINESS), st.booleans(), low_pain)
clearance = st.tuples(st.just("clearance"))
backdated = st.tuples(st.just("backdated"), pain_score, st.sampled_from(["rest", "during"]), st.integers(1, 3))

action = st.one_of(pain, pain, pain, lift, lift, run, run, run, plyo, sleep, fuel, readiness, backdated, clearance)
day = st.tuples(st.sampled_from([1, 1, 1, 1, 2, 2, 3, 6]), st.integers(6, 21), st.lists(action, max_size=4))

PREFIXES = {"none": lambda j, bsi: j,
            "strength": lambda j, bsi: j.settle(walk_minutes=30 if bsi else 0),
            "plyometric": lambda j, bsi: j.settle(walk_minutes=30 if bsi else 0).strength(),
            "return_to_run": lambda j, bsi: j.settle(walk_minutes=30 if bsi else 0).strength().plyometric(),
            "integration": lambda j, bsi: j.settle(walk_minutes=30 if bsi else 0).strength().plyometric()
            .run_block(14, 5.0).run_block(21, 8.0)}


def _log(h: History, item: tuple, when: dt.datetime) -> None:
    kind = item[0]
    if kind == "pain":
        h.pain(item[1], item[2], bony_tenderness=item[3])
    elif kind == "lift":
        h.lift(item[1], item[2], item[3], item[4], rpe=item[5])
    elif kind == "run":
        km, run_kind, rpe, level, pace = item[1:]
        if run_kind == "walk":
            h.run(min(km, 5.0), min(km, 5.0) * 12, rpe=2.0, kind="walk")
        else:
            h.run(km, km * pace, rpe=rpe, kind=run_kind, level=level if run_kind == "walk_run" else None)
    elif kind == "plyo":
        h.plyo(item[1], item[2], item[3])
    elif kind == "sleep":
        h.sleep(item[1])
    elif kind == "fuel":
        h.fuel(item[1])
    elif kind == "readiness":
        h.readiness(item[1], passed=item[2], pain=item[3])
    elif kind == "clearance":
        h.clearance("running")
    elif kind == "backdated":
        h.log(PainReported(score=item[1], context=item[2]), occurred_at=when - dt.timedelta(days=item[3]))


@st.composite
def diaries(draw, batched: bool | None = None) -> History:
    """A plausible athlete diary: a compliant prefix, then random days (each day one batch if
    ``batched``; drawn when None)."""
    if batched is None:
        batched = draw(st.booleans())
    injury_kind = draw(st.sampled_from(["tendinopathy", "tendinopathy", "bsi_low", "bsi_high"]))
    previous = draw(st.sampled_from([0, 0, 1, 3]))
    onset = dt.date(2026, 2, 20)
    if injury_kind == "tendinopathy":
        reported = InjuryReported(injury_type="tendinopathy", onset_date=onset, previous_running_injuries=previous)
    else:
        site = "navicular" if injury_kind == "bsi_high" else "posteromedial_tibia"
        reported = InjuryReported(injury_type="bone_stress", bone_site=site, onset_date=onset,
                                  previous_running_injuries=previous)
    h = History(body_mass_kg=70.0, weekly_km=draw(st.sampled_from([15.0, 20.0, 30.0])), longest_km=8.0,
                injury=reported)
    if injury_kind == "bsi_high" and draw(st.booleans()):
        h.clearance("running")
    j = PREFIXES[draw(st.sampled_from(sorted(PREFIXES)))](Journey(h), injury_kind != "tendinopathy")
    offset = j.d - 1
    days = draw(st.lists(day, min_size=2, max_size=25))
    new_injury_on = draw(st.one_of(st.none(), st.none(), st.none(), st.integers(0, len(days) - 1)))
    for i, (gap, hour, actions) in enumerate(days):
        offset += gap
        h.day(offset, hour=hour)
        with h.batch() if batched else contextlib.nullcontext():
            for item in actions:
                _log(h, item, h.now)
            if i == new_injury_on:
                h.log(InjuryReported(injury_type="muscle_strain", onset_date=h.now.date()))
    return h


@st.composite
def settling_diaries(draw) -> History:
    """Settle-phase diaries: low rest pain most days, now and then activity pain of any score, gaps;
    the phase exits often here, so this is where a red report and an advance meet."""
    h = History()
    offset = 0
    for gap, rest, activity in draw(st.lists(st.tuples(st.sampled_from([1, 1, 1, 1, 1, 2, 3]),
                                                       st.one_of(st.none(), st.integers(0, 2), st.integers(0, 2)),
                                                       st.one_of(st.none(), st.none(), any_pain)),
                                             min_size=5, max_size=20)):
        offset += gap
        h.day(offset)
        if rest is not None:
            h.pain(rest, "rest")
        if activity is not None:
            h.pain(activity, "during")
        if rest is None and activity is None:
            h.sleep(8.0)
    return h


def _replay(h: History, policy=POLICY, horizon: dt.datetime | None = None):
    return h.replay(policy, horizon=horizon)[1]


def _horizon(h: History) -> dt.datetime:
    return h.envelopes[-1].recorded_at + dt.timedelta(days=9)


def _batch_end(h: History, cut: int) -> int:
    """The smallest cut >= ``cut`` that does not split a batch (events sharing ``recorded_at``)."""
    while 0 < cut < len(h.envelopes) and h.envelopes[cut].recorded_at == h.envelopes[cut - 1].recorded_at:
        cut += 1
    return cut


def _shuffled_within_batches(h: History, seed: int) -> list:
    """The same log with the events of every batch in another order (versions and positions renumbered,
    as the store would number them had the app sent them in that order)."""
    batches: list[list] = []
    for envelope in h.envelopes:
        if batches and batches[-1][0].recorded_at == envelope.recorded_at:
            batches[-1].append(envelope)
        else:
            batches.append([envelope])
    rng, out = random.Random(seed), []
    for batch in batches:
        rng.shuffle(batch)
        out += batch
    return [msgspec.structs.replace(e, version=i, position=i) for i, e in enumerate(out, start=1)]


# -- properties --------------------------------------------------------------------------------


@PROPERTY
@given(st.one_of(diaries(), settling_diaries()))
def test_never_advance_when_the_latest_pain_is_red(h):
    """At every advance, the athlete's latest pain report (by day, as of that time) is not red."""
    recs = _replay(h, horizon=_horizon(h))
    for rec in recs:
        if rec.kind != "advance_phase":
            continue
        known = [e for e in h.envelopes if e.recorded_at <= rec.decision_time and isinstance(e.data, PainReported)]
        if not known:
            continue
        latest_day = max(local_day(e.occurred_at, "UTC") for e in known)
        latest = [e.data.score for e in known if local_day(e.occurred_at, "UTC") == latest_day]
        assert max(latest) <= POLICY.config.pain.amber_max, (rec.rule_id, rec.decision_time, latest)


@PROPERTY
@given(diaries(batched=True), st.integers(0, 2**32 - 1))
def test_a_batch_gives_the_same_advice_whatever_the_order_of_its_events(h, seed):
    """Shuffling the events inside each submitted batch changes no recommendation and no withdrawal (ids
    included): a batch is judged as a whole (RULES.md 7)."""
    horizon = _horizon(h)
    state = AthleteState(athlete_id=h.athlete_id)
    assert advance(state, _shuffled_within_batches(h, seed), POLICY, horizon) == _replay(h, horizon=horizon)


@PROPERTY
@given(diaries())
def test_no_intensity_progress_before_the_volume_milestone(h):
    """In return_to_run no quality sessions are planned, and an intense run raises drop-off 3."""
    recorder = RecordingPolicy(POLICY)
    _replay(h, recorder, horizon=_horizon(h))
    intense_at = {e.recorded_at for e in h.envelopes if isinstance(e.data, RunLogged)
                  and e.occurred_at.date() == e.recorded_at.date()
                  and (e.data.kind in INTENSE_RUN_KINDS
                       or (e.data.kind not in ("walk_run", "walk") and e.data.rpe >= POLICY.config.run.intense_rpe))}
    for decision in recorder.decisions:
        if decision.phase != "return_to_run":
            continue
        rules = {a.rule_id for a in decision.advice}
        assert not any("intense_sessions_per_week" in a.target for a in decision.advice)
        if decision.time in intense_at and not any(a.kind == "advance_phase" for a in decision.advice):
            assert "dropoff.3_intensity_too_early" in rules, decision.time


@PROPERTY
@given(diaries())
def test_same_log_same_recommendations_same_ids(h):
    """Replaying the same log twice gives identical recommendations, ids included."""
    horizon = _horizon(h)
    assert _replay(h, horizon=horizon) == _replay(h, BaselinePolicy(), horizon=horizon)


@PROPERTY
@given(diaries(), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3))
def test_replay_in_chunks_equals_one_pass(h, splits):
    """Folding the log in several calls of ``advance`` (a chunked read, whose boundaries may split a
    batch: all but the last call say ``complete=False``) equals one replay."""
    horizon = _horizon(h)
    cuts = sorted(int(split * len(h.envelopes)) for split in splits)
    state = AthleteState(athlete_id=h.athlete_id)
    chunked, start = [], 0
    for cut in cuts:
        chunked += advance(state, h.envelopes[start:cut], POLICY, complete=False)
        start = cut
    chunked += advance(state, h.envelopes[start:], POLICY, horizon)
    assert chunked == _replay(h, horizon=horizon)


@PROPERTY
@given(diaries(), st.floats(0.0, 1.0), st.floats(0.0, 0.999))
def test_no_look_ahead(h, split, between):
    """Events recorded after T change no recommendation decided at or before T (T falls between two
    batches: every event of a batch is recorded at its instant)."""
    cut = _batch_end(h, max(1, int(split * len(h.envelopes))))
    last = h.envelopes[cut - 1].recorded_at
    following = h.envelopes[cut].recorded_at if cut < len(h.envelopes) else last + dt.timedelta(days=5)
    t = last + (following - last) * between
    full = [r for r in _replay(h, horizon=_horizon(h)) if r.decision_time <= t]
    state = AthleteState(athlete_id=h.athlete_id)
    prefix = advance(state, h.envelopes[:cut], POLICY, horizon=t)
    assert prefix == full


@PROPERTY
@given(diaries())
def test_recommendations_are_exactly_the_changes_of_advice(h):
    """Every recommendation is a change of its topic's advice, and every change is a recommendation."""
    recorder = RecordingPolicy(POLICY)
    recs = [r for r in _replay(h, recorder, horizon=_horizon(h)) if isinstance(r, RecommendationIssued)]
    assert emissions(recs) == expected_emissions(recorder.decisions)
    assert len({r.recommendation_id for r in recs}) == len(recs)
