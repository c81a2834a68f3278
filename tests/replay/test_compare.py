"""Paired differences to a reference policy with bootstrap intervals, and the verdict read from them."""

from __future__ import annotations

import random

from engine.replay.compare import (
    CLOSED_LOOP_MEASURES, REPLAY_MEASURES, compare_closed_loop, compare_replay, verdict,
)


def athlete(policy: str, athlete_id: str, **values) -> dict:
    row = {"policy": policy, "athlete_id": athlete_id, "days_to_strength": 10, "days_to_plyometric": None,
           "days_to_return_to_run": None, "days_to_integration": None, "flare_ups": 0, "spikes_allowed": 0,
           "runs": 0, "strength_weeks_met": 2, "strength_weeks": 4, "dropoff_flags": 0, "reinjuries": 0,
           "weeks_to_pre_injury_volume": None, "dropped_off_at_end": False}
    return row | values


def cohort(policy: str, n: int = 40, **values) -> list[dict]:
    return [athlete(policy, f"ath-{i:03d}", **values) for i in range(n)]


def test_identical_policies_differ_by_exactly_zero():
    """Given two policies with the same outcomes per athlete, every difference and bound is 0 and
    the verdict says the outcomes are the same."""
    rows = cohort("baseline", flare_ups=1) + cohort("twin", flare_ups=1)
    comparison = compare_replay(rows, ["baseline", "twin"], "baseline")
    assert {(r["difference"], r["low"], r["high"]) for r in comparison if r["difference"] is not None} == {(0, 0, 0)}
    assert verdict(comparison, REPLAY_MEASURES) == [
        ("twin", "twin gave the same outcomes as baseline on every compared metric.")]


def test_fewer_flare_ups_on_every_athlete_is_safer_with_an_interval_below_zero():
    """Given a policy with one flare-up fewer on every athlete, the flare-up difference is -1 with an
    interval excluding zero; the verdict calls it safer and sees no difference in speed."""
    rows = cohort("baseline", flare_ups=2) + cohort("careful", flare_ups=1)
    comparison = compare_replay(rows, ["baseline", "careful"], "baseline")
    flare = next(r for r in comparison if r["metric"] == "flare_ups_per_athlete")
    assert (flare["difference"], flare["finding"]) == (-1.0, "better")
    assert flare["high"] < 0
    (label, text), = verdict(comparison, REPLAY_MEASURES)
    assert label == "careful" and text.startswith("careful is safer (flare-ups per athlete -1")
    assert "no detectable difference in speed" in text


def test_noise_without_a_shift_is_no_detectable_difference():
    """Given outcomes that differ per athlete at random but not on average, intervals include zero
    and the verdict says there is no detectable difference."""
    rng = random.Random(7)
    rows = [athlete("baseline", f"a{i}", flare_ups=rng.choice([0, 1])) for i in range(60)]
    rows += [athlete("other", f"a{i}", flare_ups=rng.choice([0, 1])) for i in range(60)]
    comparison = compare_replay(rows, ["baseline", "other"], "baseline")
    flare = next(r for r in comparison if r["metric"] == "flare_ups_per_athlete")
    assert flare["low"] < 0 < flare["high"] or flare["difference"] == 0
    assert "no detectable difference" in verdict(comparison, REPLAY_MEASURES)[0][1]


def test_the_same_inputs_give_the_same_intervals():
    """Given the same rows twice, the bootstrap (fixed seed) gives identical intervals."""
    rng = random.Random(3)
    rows = [athlete(p, f"a{i}", flare_ups=rng.randint(0, 3)) for p in ("a", "b") for i in range(30)]
    assert compare_replay(rows, ["a", "b"], "a") == compare_replay(list(rows), ["a", "b"], "a")


def test_closed_loop_pairs_athletes_by_seed_and_index():
    """Given two seeds whose athletes share indices, pairing uses (seed, index): re-injuries avoided
    on every athlete of both seeds give -100 percentage points, safer."""
    rows = []
    for seed in (1, 2):
        for index in range(10):
            rows.append(athlete("baseline", f"sim-{index}", seed=seed, index=index, reinjuries=1))
            rows.append(athlete("gentle", f"sim-{index}", seed=seed, index=index, reinjuries=0))
    comparison = compare_closed_loop(rows, ["baseline", "gentle"], "baseline")
    rate = next(r for r in comparison if r["metric"] == "reinjury_rate")
    assert (rate["difference"], rate["athletes"], rate["finding"]) == (-1.0, 20, "better")
    assert "safer" in verdict(comparison, CLOSED_LOOP_MEASURES)[0][1]
