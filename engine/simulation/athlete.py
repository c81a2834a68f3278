"""One simulated athlete: a day-by-day step from habits, phase and tissue to logged events.

The athlete keeps its own notion of its rehab phase (settle -> strength -> plyometric ->
return_to_run -> integration), advancing by plausible criteria of its own; it knows nothing of
the engine's phase projection. ``day(date, advice)`` lives one local day and returns what the app
sends, as ``(send_at, NewEvent)`` pairs in send order.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from zoneinfo import ZoneInfo

from engine.simulation.advice import Advice
from engine.simulation.logbook import Logbook
from engine.simulation.profile import (
    DEFAULT_MIX,
    LOW_RISK_SITES,
    AthleteProfile,
    CohortMix,
    Habit,
    enrol_date,
)
from engine.simulation.tissue import DEFAULT_TISSUE, Tissue, TissueParams
from engine.simulation.training import Training
from events.envelope import NewEvent
from events.vocabulary import (
    HIGH_RISK_BONE_SITES,
    AssessmentRecorded,
    AthleteEnrolled,
    AthleteProfileUpdated,
    ClearanceRecorded,
    ClearanceScope,
    Context,
    Contributor,
    FuellingLogged,
    InjuryReported,
    InjuryType,
    PainReported,
    SleepLogged,
)

UTC = dt.timezone.utc
PHASES = ("settle", "strength", "plyometric", "return_to_run", "integration")
# What each phase remembers while the athlete is elsewhere (restored on a return within 4 weeks,
# e.g. when a closed-loop engine holds the athlete back a phase, so the HSR ladder does not restart).
_PHASE_STATE = {
    "settle": ("streak", "walked_30", "tender_day", "cleared", "clinic_day"),
    "strength": ("heavy_weeks", "self_advance_day"),
    "plyometric": ("plyo_sessions", "last_plyo", "last_test", "ready"),
    "return_to_run": ("level", "level_done", "easy_stage", "weekly_target", "intense_from"),
    "integration": ("weekly_target", "drop_from"),
}
_REMEMBER_DAYS = 28
WEIGH_IN_DAYS = 28
"""Days between weigh-ins (``athlete.profile_updated`` with the body mass)."""


@functools.lru_cache(maxsize=16384)
def local_midnight(time_zone: str, date: dt.date) -> dt.datetime:
    """Local midnight of ``date`` in UTC (the offset of local noon, so a DST night shifts nothing)."""
    noon = dt.datetime(date.year, date.month, date.day, 12, tzinfo=ZoneInfo(time_zone))
    return dt.datetime(date.year, date.month, date.day, tzinfo=UTC) - noon.utcoffset()


class SimulatedAthlete(Training):
    """One athlete in open loop (``advice=None``) or closed loop (advice from an engine)."""

    __slots__ = (
        # who and where
        "profile", "rng", "tissue", "log", "enrolled_on", "habit", "drops_strength", "injury",
        "previous_injuries", "quit", "n", "phase", "phase_day", "_left",
        # today and this week
        "logging", "gap_until", "sleep_h", "under_today", "recovery", "rest_today", "rest_in_evening",
        "morning_base", "active_yesterday", "after_pain", "pending_injury", "week", "weeks",
        "sessions", "last_calf_test", "last_run",
        # closed loop
        "hold_today", "held_this_week", "last_deload", "long_run_cap",
        # the injury episode (drop-off 1)
        "exit_mode", "exit_trigger", "exit_day", "flare_until",
        # phase state (see _PHASE_STATE)
        "streak", "walked_30", "tender_day", "cleared", "clinic_day", "heavy_weeks", "self_advance_day",
        "plyo_sessions", "last_plyo", "last_test", "ready", "level", "level_done", "easy_stage",
        "weekly_target", "intense_from", "drop_from",
    )

    def __init__(self, profile: AthleteProfile, rng: random.Random, start: dt.date, *,
                 mix: CohortMix = DEFAULT_MIX, tissue: TissueParams = DEFAULT_TISSUE) -> None:
        p = self.profile = profile
        self.rng = rng
        self.enrolled_on = enrol_date(profile, start)
        self.tissue = Tissue(rng, p.injury_type, p.onset_days_before, p.body_mass_kg, p.previous_injuries,
                             p.under_fuels, strong=p.habit is Habit.STRENGTH_DROPPED, params=tissue)
        self.log = Logbook(rng, p.late_rate, mix.typo_rate, mix.duplicate_rate, key=p.athlete_id)
        self.habit = p.habit
        self.drops_strength = p.drops_strength
        self.injury = (p.injury_type, p.site, p.bone_site)
        self.previous_injuries = p.previous_injuries
        self.quit = False
        self.gap_until = 0
        self.sleep_h = 7.5
        self.under_today = False
        self.active_yesterday = False
        self.logging = True
        self.after_pain: list = []
        self.recovery = 1.0
        self.rest_today = 0
        self.rest_in_evening = True
        self.pending_injury: InjuryReported | None = None
        self.week = [0.0, 0, 0, 0]  # run km, heavy sessions, lift days, worst activity pain
        self.weeks: list[list] = []
        self.hold_today = False
        self.held_this_week = False
        self.last_deload = -99
        self.long_run_cap: float | None = None
        self.morning_base = 2.0
        self.n = 0
        self.sessions = 0
        self.last_calf_test = -99
        self.last_run = -9
        self.phase = ""
        self._left: dict[str, tuple[int, int, dict]] = {}
        self._new_episode()

    @property
    def athlete_id(self) -> str:
        return self.profile.athlete_id

    def _ri(self, a: int, b: int) -> int:
        return a + int(self.rng.random() * (b - a + 1))

    def _new_episode(self) -> None:
        """A new injury: back to settle with a clean slate (and the exit-at-pain-relief habit armed)."""
        self.exit_mode = (False, False)  # (stopped strength, running back at pre-injury volume)
        self.exit_trigger = None
        self.exit_day = self.flare_until = -1
        if self.habit is Habit.EXIT_AT_PAIN_RELIEF:
            in_settle = self.rng.random() < 0.5
            self.exit_trigger = ("settle", self._ri(3, 6)) if in_settle else ("strength", self._ri(5, 20))
        self._left.clear()
        self._enter("settle")

    @property
    def exited(self) -> bool:
        """Drop-off 1 under way: strength stopped and/or running back at pre-injury volume."""
        return self.exit_mode != (False, False)

    def _enter(self, phase: str) -> None:
        if self.phase and self.phase != phase:
            self._left[self.phase] = (self.n, self.phase_day, {k: getattr(self, k) for k in _PHASE_STATE[self.phase]})
        saved = self._left.pop(phase, None)
        self.phase, self.phase_day = phase, 0
        if saved is not None and self.n - saved[0] <= _REMEMBER_DAYS:
            self.phase_day = saved[1]
            for key, value in saved[2].items():
                setattr(self, key, value)
            return
        if phase == "settle":
            self.streak = 0
            self.walked_30 = self.tender_day = -99
            self.cleared = False
            self.clinic_day = None
        elif phase == "strength":
            self.heavy_weeks = 0
            never_heavy = self.habit is Habit.LOW_LOAD and self.profile.low_load_weeks == 99
            self.self_advance_day = self._ri(42, 63) if never_heavy else None
        elif phase == "plyometric":
            self.plyo_sessions, self.last_plyo, self.last_test, self.ready = 0, -9, -99, False
        elif phase == "return_to_run":
            # Eager athletes who passed the jog test comfortably skip the first levels.
            start_level = 1 + min(5, max(0, int((self.tissue.capacity - 0.6) * 15))) if self.profile.eager else 1
            self.level, self.level_done, self.easy_stage = start_level, 0, False
            self.weekly_target = 0.0
            self.intense_from = self._ri(3, 12) if self.habit is Habit.INTENSITY_EARLY else None
        elif phase == "integration":
            self.weekly_target = self.profile.pre_injury_weekly_km * (1.0 + 0.1 * self.rng.random())
            self.drop_from = self._ri(0, 4) if self.drops_strength else None

    # --- the step ---------------------------------------------------------------------------------

    def day(self, date: dt.date, advice: Advice | None = None) -> list[tuple[dt.datetime, NewEvent]]:
        """Live one local day; return what the app sends, as (send_at, event) in send order."""
        return [(send, event) for send, events in self.day_batches(date, advice) for event in events]

    def day_batches(self, date: dt.date, advice: Advice | None = None) -> list[tuple[dt.datetime, list[NewEvent]]]:
        """Live one local day; return the app's batches, as (send_at, events) in send order."""
        n = (date - self.enrolled_on).days
        if n < 0 or self.quit:
            return []
        self.n = n
        p, rng, log = self.profile, self.rng, self.log
        log.start_day(local_midnight(p.time_zone, date))
        if n == 0:
            self._onboard(date)
            self._night()
            return log.out
        if p.quit_day is not None and n >= p.quit_day:
            self.quit = True
            return []
        if date.weekday() == 0:
            self._new_week()
        self.hold_today = False
        if advice is not None:
            self._follow(advice)
        logging = n > self.gap_until or self.pending_injury is not None
        if logging and p.logging_gaps and n > 7 and rng.random() < 0.03:
            self.gap_until = n + self._ri(3, 11)
            logging = False
        self.logging = logging
        wake = p.wake_minute + self._ri(-20, 20)
        evening = p.bed_minute - self._ri(10, 50)
        self._morning(date, wake, logging)
        self.after_pain = []
        end = self._train(date.weekday(), wake, evening)
        self._evening(max(evening, end + 5), logging)
        self._night()
        return log.out

    def _onboard(self, date: dt.date) -> None:
        p, log = self.profile, self.log
        m = self._ri(18 * 60, 20 * 60)
        t = log.at(m)
        injury = InjuryReported(injury_type=p.injury_type, onset_date=date - dt.timedelta(days=p.onset_days_before),
                                site=p.site, bone_site=p.bone_site, previous_running_injuries=p.previous_injuries,
                                previous_same_site=p.previous_same_site)
        enrolled = AthleteEnrolled(body_mass_kg=p.body_mass_kg, time_zone=p.time_zone,
                                   pre_injury_weekly_km=p.pre_injury_weekly_km,
                                   pre_injury_longest_run_km=p.pre_injury_longest_run_km)
        pain = PainReported(score=self.tissue.rest_pain(self.rng), context=Context.REST,
                            bony_tenderness=self.tissue.tender())
        log.log(m + 2, [(t, enrolled), (t, injury), (t, pain)], late_ok=False)
        m2 = m + self._ri(20, 80)
        log.log(m2, [(log.at(m2), AssessmentRecorded(contributors=list(p.contributors)))], late_ok=False)

    def _morning(self, date: dt.date, wake: int, logging: bool) -> None:
        p, rng, t, log = self.profile, self.rng, self.tissue, self.log
        items = []
        at = log.at(wake)
        if self.pending_injury is not None:
            items.append((at, self.pending_injury))
            if rng.random() < 0.5:
                contributors = [Contributor.TRAINING_LOAD_ERROR, Contributor.PREVIOUS_INJURY]
                if self.tissue.days_since_strength > 7:
                    contributors.append(Contributor.STRENGTH_DEFICIT)
                items.append((at, AssessmentRecorded(contributors=contributors, note="re-assessed after a new injury")))
            self.pending_injury = None
        if rng.random() < p.log_sleep:
            items.append((at, SleepLogged(hours=round(self.sleep_h, 1), quality=min(5, max(1, int(self.sleep_h - 3.5))))))
        rest = t.rest_pain(rng)
        self.rest_today = rest
        # Scale noise of one point either way; a real rise above baseline comes from the tissue model
        # (rest pain up after load beyond capacity), not from the noise (RULES.md 4's tolerance).
        noise = rng.random()
        morning = rest if noise < 0.8 else min(10, rest + 1) if noise < 0.9 else max(0, rest - 1)
        baseline = self.morning_base
        self.streak = self.streak + 1 if rest <= 2 and morning <= max(baseline, 2) else 0
        self.morning_base = baseline * 0.8 + morning * 0.2
        self.rest_in_evening = True
        if (self.active_yesterday or self.phase == "settle") and rng.random() < p.log_rest_pain:
            items.append((at, PainReported(score=morning, context=Context.NEXT_MORNING, bony_tenderness=t.tender())))
        elif rng.random() < p.log_rest_pain * 0.5:
            items.append((at, PainReported(score=rest, context=Context.REST, bony_tenderness=t.tender())))
            self.rest_in_evening = False
        if t.tender():
            self.tender_day = self.n
        self.active_yesterday = False
        if logging and items and self.n % WEIGH_IN_DAYS == 0:
            # A monthly weigh-in sent with the morning's logs (never alone: the simulator's random
            # stream, hence every cohort, stays as it was). The model has no body composition, so
            # the mass is unchanged; the event exercises `athlete.profile_updated` end to end.
            items.append((at, AthleteProfileUpdated(body_mass_kg=p.body_mass_kg)))
        if logging and items:
            log.morning(wake + self._ri(3, 25), items)

    def _evening(self, minute: int, logging: bool) -> None:
        p, rng, log = self.profile, self.rng, self.log
        self.under_today = rng.random() < (0.55 if p.under_fuels else 0.05)
        items = list(self.after_pain)
        at = log.at(minute - 1)
        if rng.random() < p.log_fuel:
            kcal = None
            if p.tracks_calories:
                kcal = float(round(p.body_mass_kg * (self._ri(22, 30) if self.under_today else self._ri(34, 45)), -1))
            items.append((at, FuellingLogged(under_fuelled=self.under_today, energy_kcal=kcal)))
        if self.rest_in_evening and rng.random() < p.log_rest_pain * (0.6 if self.exited else 1.0):
            items.append((at, PainReported(score=self.rest_today, context=Context.REST, bony_tenderness=self.tissue.tender())))
        if logging:
            if items or log.evening:
                log.close_evening(minute, items)
        else:
            log.hold_over()

    def _night(self) -> None:
        p, rng, t = self.profile, self.rng, self.tissue
        mean = 6.3 if p.short_sleep else 7.6
        self.sleep_h = min(11.0, max(3.5, mean + (rng.random() + rng.random() - 1.0) * 1.6))
        recovery = 1.0 if self.sleep_h >= 7 else max(0.45, 1.0 - (7.0 - self.sleep_h) * 0.35)
        if self.under_today:
            recovery *= 0.6
        self.recovery = recovery
        if t.end_of_day(rng, recovery):
            self._reinjure()
        else:
            self._advance()
        self.phase_day += 1

    # --- phase changes ----------------------------------------------------------------------------

    def _advance(self) -> None:
        p, t, n = self.profile, self.tissue, self.n
        phase = self.phase
        if self.exit_trigger is not None and not self.exited and phase == self.exit_trigger[0]:
            when = self.exit_trigger[1]
            if (phase == "settle" and self.streak >= when) or (phase == "strength" and self.phase_day >= when):
                running_back = self.rng.random() < 0.65
                self.exit_mode = (not running_back or self.rng.random() < 0.6, running_back)
                self.exit_day = n
            return
        if self.exited:
            return
        if phase == "settle":
            if t.bsi and self.injury[2] in HIGH_RISK_BONE_SITES and not self.cleared:
                if self.clinic_day is None and t.bone < 1.3 and self.streak >= 3:
                    self.clinic_day = n + self._ri(2, 6)
                if self.clinic_day is not None and n >= self.clinic_day:
                    self._clearance()
                return
            bsi_ok = not t.bsi or (n - self.tender_day >= 7 and n - self.walked_30 <= 7)
            if self.streak >= 7 and bsi_ok:
                self._enter("strength")
        elif phase == "strength":
            if self.self_advance_day is not None and self.phase_day >= self.self_advance_day:
                self._enter("return_to_run")
            elif (self.heavy_weeks >= 6 and t.one_rm["squat"] >= p.body_mass_kg and t.calf_reps >= 20
                  and t.irritability <= 3):
                self._enter("plyometric")
        elif phase == "plyometric" and self.ready:
            self._enter("return_to_run")

    def _clearance(self) -> None:
        self.cleared = True
        m = self._ri(14 * 60, 16 * 60)
        self.log.log(m + self._ri(5, 60), [(self.log.at(m), ClearanceRecorded(scope=ClearanceScope.RUNNING,
                                                                               clinician="Sports physician"))],
                     late_ok=False)

    def _new_week(self) -> None:
        week = self.week
        self.weeks = (self.weeks + [week])[-3:]
        self.week = [0.0, 0, 0, 0]
        p = self.profile
        held, self.held_this_week = self.held_this_week, False
        if self.exited:
            return
        if self.phase == "strength" and week[1] >= 2:
            self.heavy_weeks += 1
        elif self.phase == "return_to_run":
            if self.easy_stage and not held:
                step = 1.25 if p.eager else 1.12
                if week[3] >= 5:
                    step = 0.85
                self.weekly_target = min(p.pre_injury_weekly_km * 1.15, max(self.weekly_target, week[0]) * step)
            last_two = self.weeks[-2:]
            if len(last_two) == 2 and all(w[0] >= p.pre_injury_weekly_km and w[3] <= 3 for w in last_two):
                self._enter("integration")
        elif self.phase == "integration":
            self.weekly_target = p.pre_injury_weekly_km * (1.0 + 0.1 * self.rng.random()) * (0.8 if week[3] >= 6 else 1.0)

    def _reinjure(self) -> None:
        rng, t = self.rng, self.tissue
        injury_type, site, bone_site = self.injury
        same = rng.random() < 0.65
        if not same:
            bsi = rng.random() < (0.5 if self.profile.under_fuels else 0.2)
            if bsi:
                bone_site = LOW_RISK_SITES[int(rng.random() * len(LOW_RISK_SITES))]
                injury_type, site = InjuryType.BONE_STRESS, bone_site.value.replace("_", " ")
            else:
                injury_type, site, bone_site = InjuryType.TENDINOPATHY, "achilles" if site != "achilles" else "patellar tendon", None
        self.previous_injuries += 1
        date = self.enrolled_on + dt.timedelta(days=self.n)
        self.pending_injury = InjuryReported(injury_type=injury_type, onset_date=date, site=site, bone_site=bone_site,
                                             previous_running_injuries=min(50, self.previous_injuries),
                                             previous_same_site=same)
        self.injury = (injury_type, site, bone_site)
        t.reinjure(rng, injury_type is InjuryType.BONE_STRESS)
        if self.habit is Habit.EXIT_AT_PAIN_RELIEF and rng.random() < 0.5:
            self.habit = Habit.DILIGENT  # learned the lesson
        self._new_episode()

    # --- closed loop ------------------------------------------------------------------------------

    def _follow(self, advice: Advice) -> None:
        """Take today's advice (with the athlete's own probability); see engine/simulation/advice.py."""
        if self.rng.random() >= self.profile.follows_advice:
            return
        if advice.phase in PHASES and advice.phase != self.phase:
            self._enter(advice.phase)
        phase = self.phase
        running = phase in ("return_to_run", "integration")
        if "hold" in advice.kinds:
            self.hold_today = self.held_this_week = True
        if "deload" in advice.kinds and running and self.n - self.last_deload >= 7:
            self.last_deload = self.n
            self.weekly_target *= 0.8
            if phase == "return_to_run":
                self.level = max(1, self.level - 1)
        targets = advice.targets
        if "walk_run_level" in targets and phase == "return_to_run":
            self.level = max(1, min(12, int(targets["walk_run_level"])))
            self.easy_stage = False  # the coach says the ladder is not done: back to walk-run
        if "weekly_km" in targets and running:
            self.weekly_target = float(targets["weekly_km"])
        self.long_run_cap = float(targets["long_run_km"]) if "long_run_km" in targets else None
        flags = advice.flags
        if "drop_off_1" in flags:
            self.exit_mode, self.exit_trigger = (False, False), None
        if "drop_off_2" in flags and self.habit is Habit.LOW_LOAD:
            self.habit = Habit.DILIGENT
            if phase == "strength":
                self.self_advance_day = None
        if "drop_off_3" in flags:
            self.intense_from = None
            if self.habit is Habit.INTENSITY_EARLY:
                self.habit = Habit.DILIGENT
        if "drop_off_4" in flags:
            self.drops_strength = False
            if phase == "integration":
                self.drop_from = None
