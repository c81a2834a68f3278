"""The four drop-off points of RULES.md 2, and silence, as flags that name the numbers compared."""

from __future__ import annotations

from engine.policies.base import Advice
from engine.policies.baseline.config import BaselineConfig
from events.vocabulary import INTENSE_RUN_KINDS, RunKind, RunLogged
from projections import adherence as adh
from projections import capacity as cap
from projections import phase as ph
from projections.athlete import AthleteState
from projections.calendar import week_of, week_start


def flag(topic: str, rule: str, text: str, why: dict, drop_off_point: int | None = None) -> Advice:
    target = {} if drop_off_point is None else {"drop_off_point": drop_off_point}
    return Advice(topic=topic, kind="flag", rule_id=rule, explanation=text, target=target, rationale=why)


def intense_runs(s: AthleteState, first_day: int, last_day: int, intense_rpe: float) -> int:
    """Tempo/interval/race runs, or pace-led runs (RPE >= ``intense_rpe``), on first_day..last_day."""
    return sum(1 for e in s.entries.values()
               if first_day <= e.day <= last_day and isinstance(e.data, RunLogged)
               and (e.data.kind in INTENSE_RUN_KINDS
                    or (e.data.kind not in (RunKind.WALK_RUN, RunKind.WALK) and e.data.rpe >= intense_rpe)))


def dropoffs(cfg: BaselineConfig, s: AthleteState, day: int, c: ph.PhaseCriteria) -> list[Advice]:
    d, phase, out = cfg.dropoff, s.phase.phase, []
    silent = adh.days_since_last_log(s.adherence, day)
    if silent is not None and silent >= d.no_log_days:
        out.append(flag("dropoff:silent", "adherence.no_logs",
                        f"Nothing logged for {silent} days (a check-in is due after {d.no_log_days}): "
                        "check in before the rehab stalls.",
                        {"days_since_last_log": silent, "no_log_days": d.no_log_days, "phase": phase}))
    if phase in ("settle", "strength"):
        rest_day = s.pain.latest_day.get("rest")  # its worst rest score: a batch's order does not matter
        rest = None if rest_day is None else s.pain.rest.get(rest_day, s.pain.latest["rest"])
        settled = rest is not None and rest <= d.settled_rest_pain_max
        last_lift = max((dd for dd, n in s.capacity.lift_sets.items() if n), default=None)
        if phase == "strength":  # never lifting in the strength phase is stopping too
            last_lift = max(last_lift or 0, s.phase.entered_day)
        stopped = last_lift is not None and day - last_lift >= d.strength_silence_days
        week_km = sum(km for dd, km in s.load.km.items() if day - 6 <= dd <= day)
        pre = s.profile.pre_injury_weekly_km
        jumped = pre > 0 and week_km >= d.volume_share_of_pre_injury * pre
        if settled and (stopped or jumped):
            since = None if last_lift is None else day - last_lift
            why = (f"no strength session for {since} days" if stopped else
                   f"{week_km:.1f} km run in 7 days, {week_km / pre:.0%} of your pre-injury {pre:g} km")
            out.append(flag("dropoff:1", "dropoff.1_exit_at_pain_relief",
                            f"Pain has settled (rest {rest}/10) but capacity has not: {why}. Keep the strength "
                            f"work going in {phase} before running more.",
                            {"rest_pain": rest, "days_since_strength": since, "running_km_7d": round(week_km, 1),
                             "pre_injury_weekly_km": pre}, drop_off_point=1))
    if phase == "strength":
        week, low_weeks = week_of(day), 0
        for w in range(week - d.low_load_weeks, week):
            sessions, heavy = adh.strength_week(s.capacity, w)
            first = week_start(w)
            light = cap.sessions_in(s.capacity.low_load_sets, first, first + 6)
            if sessions > 0 and heavy == 0 and light > 0:  # RULES.md 2: low-load, not merely moderate
                low_weeks += 1
        if low_weeks >= d.low_load_weeks and week - d.low_load_weeks >= week_of(s.phase.entered_day):
            out.append(flag("dropoff:2", "dropoff.2_exit_before_strength",
                            f"Strength work has stayed light for {low_weeks} weeks (no heavy set: more than 12 "
                            "reps, under ~70% of 1RM or RPE under 6): load heavier, 8 reps or fewer at RPE 7+.",
                            {"low_load_weeks": low_weeks, "weeks_needed": d.low_load_weeks}, drop_off_point=2))
    if phase == "return_to_run":
        intense = intense_runs(s, day - 6, day, cfg.run.intense_rpe)
        met, _ = ph.volume_weeks_met(s.load, s.pain, day, s.profile.pre_injury_weekly_km, c, cfg.pain)
        if intense and met < c.volume_weeks:
            out.append(flag("dropoff:3", "dropoff.3_intensity_too_early",
                            f"{intense} hard run(s) in the last 7 days (tempo, intervals, races or RPE "
                            f"{cfg.run.intense_rpe:g}+) before pre-injury volume is back ({met} of {c.volume_weeks} "
                            "weeks met): keep every run easy until then.",
                            {"intense_runs_7d": intense, "volume_weeks_met": met}, drop_off_point=3))
    if phase == "integration":
        week = week_of(day)
        weeks = [adh.strength_week(s.capacity, w)[0] for w in range(week - d.integration_weeks, week)]
        if all(n < d.integration_min_sessions for n in weeks) and \
                week - d.integration_weeks >= week_of(s.phase.entered_day):
            out.append(flag("dropoff:4", "dropoff.4_strength_dropped",
                            f"Strength sessions per week: {', '.join(map(str, weeks))} (at least "
                            f"{d.integration_min_sessions} needed): keep 2-3 sessions a week to stay injury-free.",
                            {"sessions_per_week": ",".join(map(str, weeks)),
                             "min_sessions": d.integration_min_sessions}, drop_off_point=4))
    return out
