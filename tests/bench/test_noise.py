"""The noise benchmark's metrics (bench/noise.py, RULES.md 8), specified on hand-made recommendation lists."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

NOISE_PATH = Path(__file__).resolve().parents[2] / "bench" / "noise.py"


@pytest.fixture(scope="module")
def noise():
    """bench/noise.py loaded from its path (bench/ is not an installed package)."""
    spec = importlib.util.spec_from_file_location("bench_noise_under_test", NOISE_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


UTC = dt.timezone.utc
MONDAY = dt.date(2026, 1, 5)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """``day`` days after Monday 5 January 2026, UTC."""
    return dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=UTC)


def test_two_kinds_on_one_topic_and_local_day_are_one_contradiction(noise):
    """Given hold then deload on `pain` the same London day, and a flag beside them,
    when contradictions are counted, then that topic and day are one contradiction and the flag is none."""
    recs = [noise.Rec(at(1, 8), "pain", "hold", "pain.traffic_light_amber"),
            noise.Rec(at(1, 19), "pain", "deload", "pain.traffic_light_red"),
            noise.Rec(at(1, 20), "pain", "flag", "pain.note")]
    assert noise.same_day_contradictions(recs, "Europe/London") == [
        ("pain", MONDAY + dt.timedelta(days=1), ("hold", "deload"))]


def test_the_local_day_comes_from_the_athletes_time_zone(noise):
    """Given hold at 03:00 UTC and deload at 22:00 UTC on one UTC day, for a New York athlete,
    when contradictions are counted, then there are none (22:00 and 17:00 local fall on two days)."""
    recs = [noise.Rec(at(1, 3), "strength", "hold", "strength.hsr_hold"),
            noise.Rec(at(1, 22), "strength", "deload", "strength.deload_red")]
    assert noise.same_day_contradictions(recs, "America/New_York") == []
    assert len(noise.same_day_contradictions(recs, "Europe/London")) == 1


def test_withdrawals_and_repeated_kinds_are_no_contradiction(noise):
    """Given hold, a withdrawal, then hold again with another target on one day,
    when contradictions are counted, then there are none (one kind was issued)."""
    recs = [noise.Rec(at(2, 8), "run", "hold", "run.volume_hold"),
            noise.Rec(at(2, 9), "run", "deload", "run.volume_deload", withdrawn=True),
            noise.Rec(at(2, 18), "run", "hold", "run.volume_hold")]
    assert noise.same_day_contradictions(recs, "UTC") == []


def test_a_return_to_the_first_kind_within_48_hours_is_a_flip_flop(noise):
    """Given hold, deload 12 h later and hold again 47 h after the first on `pain`,
    when flip-flops are counted, then there is one, named hold>deload>hold with its rules."""
    recs = [noise.Rec(at(0, 0), "pain", "hold", "a"), noise.Rec(at(0, 12), "pain", "deload", "b"),
            noise.Rec(at(1, 23), "pain", "hold", "a")]
    assert noise.flip_flops(recs) == [noise.FlipFlop("pain", at(1, 23), "hold>deload>hold", "a>b>a")]


def test_a_return_after_48_hours_or_on_another_topic_is_no_flip_flop(noise):
    """Given hold, deload, hold on one topic over 49 h, and hold/deload/hold spread over three topics,
    when flip-flops are counted, then there are none."""
    slow = [noise.Rec(at(0, 0), "pain", "hold", "a"), noise.Rec(at(1, 0), "pain", "deload", "b"),
            noise.Rec(at(2, 1), "pain", "hold", "a")]
    spread = [noise.Rec(at(0, 0), "pain", "hold", "a"), noise.Rec(at(0, 1), "run", "deload", "b"),
              noise.Rec(at(0, 2), "strength", "hold", "a")]
    assert noise.flip_flops(slow) == []
    assert noise.flip_flops(spread) == []


def test_flags_and_phase_kinds_do_not_make_or_break_a_flip_flop(noise):
    """Given progress, a flag, hold, an advance_phase, progress on one topic within a day,
    when flip-flops are counted, then progress>hold>progress is counted once."""
    recs = [noise.Rec(at(3, 8), "strength", "progress", "p"), noise.Rec(at(3, 9), "strength", "flag", "f"),
            noise.Rec(at(3, 10), "strength", "hold", "h"), noise.Rec(at(3, 11), "strength", "advance_phase", "x"),
            noise.Rec(at(3, 12), "strength", "progress", "p")]
    assert [f.kinds for f in noise.flip_flops(recs)] == ["progress>hold>progress"]


def test_deloads_are_counted_per_decision_point(noise):
    """Given one red pain point with a pain deload and three exercise deloads, and a later point with
    one bundled deload, when deloads per point are counted, then they are 4 and 1, and only the first
    point counts as a red pain point when its rule starts with `pain.`."""
    red, later = at(4, 7), at(6, 7)
    recs = [noise.Rec(red, "pain", "deload", "pain.traffic_light_red")]
    recs += [noise.Rec(red, f"strength:{x}", "deload", "strength.deload_red") for x in ("squat", "calf", "lunge")]
    recs += [noise.Rec(later, "run", "deload", "run.volume_deload"), noise.Rec(later, "run", "hold", "x")]
    assert sorted(noise.deloads_per_point(recs)) == [1, 4]
    assert noise.deloads_per_point(recs, rule_prefix="pain.") == [4]


def test_weekly_counts_cover_full_local_weeks_only(noise):
    """Given issued advice in weeks 0, 0 and 1 and one in a last, partial week, over 17 local days,
    when counted per week, then weeks 0 and 1 hold 2 and 1 and the partial week is left out."""
    recs = [noise.Rec(at(0, 9), "a", "hold", "r"), noise.Rec(at(6, 23), "a", "hold", "r"),
            noise.Rec(at(7, 0), "a", "hold", "r"), noise.Rec(at(15, 9), "a", "hold", "r")]
    assert noise.weekly_counts(recs, "UTC", MONDAY, MONDAY + dt.timedelta(days=17)) == [2, 1]


def test_the_target_is_met_by_a_quiet_compliant_cohort(noise):
    """Given one diligent athlete with 2 and 3 recommendations in two weeks and no contradiction,
    when the report is built, then the compliant median is 2.5 and the target is met."""
    recs = [noise.Rec(at(d, 9), "run", k, "r") for d, k in ((0, "hold"), (2, "progress"), (7, "hold"),
                                                             (9, "progress"), (11, "hold"))]
    run = noise.AthleteRun("ath-0001", "diligent", "UTC", MONDAY, MONDAY + dt.timedelta(days=14), 30, recs)
    args = argparse.Namespace(athletes=1, weeks=2, seed=1)
    out = noise.report([run], {"wall_s": 0.0, "cpu_s": 0.0, "policy": "hand-made", "engine": "-"}, args)
    assert out["groups"]["compliant"]["issued_per_athlete_week"]["median"] == 2.5
    assert out["target"] == {"compliant_median_per_week": 2.5, "all_same_day_contradictions": 0, "met": True}


def test_a_contradiction_misses_the_target_whatever_the_median(noise):
    """Given a diligent athlete with one hold and one deload on `pain` on one day,
    when the report is built, then the target is not met."""
    recs = [noise.Rec(at(1, 8), "pain", "hold", "a"), noise.Rec(at(1, 9), "pain", "deload", "b")]
    run = noise.AthleteRun("ath-0001", "diligent", "UTC", MONDAY, MONDAY + dt.timedelta(days=7), 10, recs)
    out = noise.report([run], {"wall_s": 0.0, "cpu_s": 0.0, "policy": "hand-made", "engine": "-"},
                       argparse.Namespace(athletes=1, weeks=1, seed=1))
    assert out["target"]["met"] is False


def test_the_script_runs_a_tiny_cohort_through_the_engine(noise, capsys):
    """Given 2 simulated athletes over 2 weeks, when the benchmark runs with --json,
    then it prints one JSON document whose counts add up (issued by kind = issued)."""
    import json

    out = noise.main(["--athletes", "2", "--weeks", "2", "--json"])
    printed = json.loads(capsys.readouterr().out)
    everyone = printed["groups"]["all"]
    assert printed["athletes"] == 2 and everyone["events"] == out["events"] > 0
    assert sum(everyone["by_kind"].values()) == everyone["issued"]


def test_a_saved_cohort_reads_back_as_the_same_logs(noise, tmp_path):
    """Given one simulated athlete over one week saved with --save-cohort,
    when the file is read back, then the header and every submission are the same as simulated."""
    cohort = list(noise.simulated_cohort(1, 1, seed=3))
    header = {"athletes": 1, "weeks": 1, "seed": 3, "simulator": noise.simulator_digest()}
    noise.save_cohort(tmp_path / "cohort.jsonl", header, cohort)
    assert noise.read_cohort(tmp_path / "cohort.jsonl") == (header, cohort)
