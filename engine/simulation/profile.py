"""Who a simulated athlete is: body, injury, root causes, and compliance habits.

A profile is drawn once per athlete from that athlete's own random stream, so athlete k is the
same person whatever the cohort size. The shares of each habit in a cohort are the knobs of
:class:`CohortMix`; every athlete draws independently, so a share is an expectation, not a quota.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from dataclasses import dataclass

from events.vocabulary import HIGH_RISK_BONE_SITES, BoneSite, Contributor, InjuryType, Side

ZONES = (
    "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "Australia/Sydney", "Asia/Tokyo", "America/Sao_Paulo",
)

# (type, weight, sites the athlete names). Bone stress sites come from BoneSite.
INJURIES: tuple[tuple[InjuryType, float, tuple[str, ...]], ...] = (
    (InjuryType.TENDINOPATHY, 0.24, ("achilles", "patellar tendon", "proximal hamstring", "gluteal tendon")),
    (InjuryType.PLANTAR_FASCIA, 0.10, ("plantar fascia",)),
    (InjuryType.PATELLOFEMORAL, 0.12, ("anterior knee",)),
    (InjuryType.ITB, 0.09, ("lateral knee",)),
    (InjuryType.MUSCLE_STRAIN, 0.12, ("calf", "hamstring")),
    (InjuryType.JOINT, 0.05, ("ankle", "hip")),
    (InjuryType.OTHER, 0.04, ("foot", "lower back")),
)
HIGH_RISK_SITES = tuple(s for s in BoneSite if s in HIGH_RISK_BONE_SITES)
LOW_RISK_SITES = (BoneSite.POSTEROMEDIAL_TIBIA, BoneSite.POSTEROMEDIAL_TIBIA, BoneSite.METATARSAL_SHAFT,
                  BoneSite.FIBULA, BoneSite.CALCANEUS, BoneSite.PELVIS)


class Habit(enum.StrEnum):
    """The athlete's main way of leaving rehab too early (RULES.md section 2), or none."""

    DILIGENT = "diligent"
    EXIT_AT_PAIN_RELIEF = "exit_at_pain_relief"  # drop-off 1
    LOW_LOAD = "low_load"  # drop-off 2
    INTENSITY_EARLY = "intensity_early"  # drop-off 3
    STRENGTH_DROPPED = "strength_dropped"  # drop-off 4


@dataclass(frozen=True, slots=True)
class CohortMix:
    """Tuning knobs: the share of each behaviour in a cohort.

    The four drop-off shares are exclusive (the rest are diligent) and dealt exactly in every block
    of 20 athletes (see ``dealt_habit``); the other shares are independent draws per athlete.
    """

    exit_at_pain_relief: float = 0.16
    low_load: float = 0.16
    intensity_early: float = 0.18
    strength_dropped: float = 0.24
    also_drops_strength: float = 0.3
    """Share of the non-diligent, non-drop-off-4 athletes who also drop strength in integration."""
    logging_gaps: float = 0.25
    """Athletes who now and then stop logging for several days."""
    quits: float = 0.04
    """Athletes who stop logging for good at some point."""
    short_sleep: float = 0.22
    under_fuelling: float = 0.16
    bone_stress: float = 0.24
    high_risk_site: float = 0.45
    late_logging: tuple[float, float] = (0.02, 0.18)
    """Per-athlete range of the chance that a log is sent hours after it happened."""
    typo_rate: float = 0.003
    """Chance that a measurement is logged wrong and amended later."""
    duplicate_rate: float = 0.002
    """Chance that a log is sent twice and the copy retracted later."""
    enrol_spread_days: int = 7


DEFAULT_MIX = CohortMix()


@dataclass(frozen=True, slots=True)
class AthleteProfile:
    index: int
    athlete_id: str
    habit: Habit
    drops_strength: bool
    """Drops strength below 2 sessions/week once in integration (drop-off 4)."""
    logging_gaps: bool
    quit_day: int | None
    """Day (since enrolment) after which nothing more is logged, or None."""
    short_sleep: bool
    under_fuels: bool
    tracks_calories: bool
    body_mass_kg: float
    time_zone: str
    pre_injury_weekly_km: float
    pre_injury_longest_run_km: float
    easy_pace: float
    """min/km."""
    injury_type: InjuryType
    site: str
    bone_site: BoneSite | None
    side: Side
    onset_days_before: int
    previous_injuries: int
    previous_same_site: bool
    contributors: tuple[Contributor, ...]
    enrol_offset_days: int
    wake_minute: int
    bed_minute: int
    session_minute: int
    """Preferred local minute of day for training."""
    strength_weekdays: tuple[int, ...]
    run_weekdays: tuple[int, ...]
    adherence: float
    """Chance of doing a planned session."""
    eager: bool
    """Moves up a walk-run level after each good session (else after two)."""
    log_rest_pain: float
    log_sleep: float
    log_fuel: float
    late_rate: float
    follows_advice: float
    """Chance of following the engine's advice on a day (closed loop only)."""
    low_load_weeks: int
    """Drop-off 2: weeks of low-load strength before (maybe) going heavy; 99 = never."""

    @property
    def high_risk_bsi(self) -> bool:
        return self.bone_site is not None and self.bone_site in HIGH_RISK_BONE_SITES


def _weighted(rng: random.Random, options: tuple, weights: tuple[float, ...]):
    x = rng.random() * sum(weights)
    for option, weight in zip(options, weights):
        x -= weight
        if x < 0:
            return option
    return options[-1]


HABIT_BLOCK = 20
"""Habits are dealt in shuffled blocks of this many athletes, so every block holds each share."""


def habit_deck(mix: CohortMix) -> list[Habit]:
    """One block's habits, in proportion to the mix (largest remainder rounding)."""
    shares = {Habit.EXIT_AT_PAIN_RELIEF: mix.exit_at_pain_relief, Habit.LOW_LOAD: mix.low_load,
              Habit.INTENSITY_EARLY: mix.intensity_early, Habit.STRENGTH_DROPPED: mix.strength_dropped}
    shares[Habit.DILIGENT] = max(0.0, 1.0 - sum(shares.values()))
    total = sum(shares.values()) or 1.0
    exact = {h: HABIT_BLOCK * v / total for h, v in shares.items()}
    counts = {h: int(x) for h, x in exact.items()}
    for h in sorted(exact, key=lambda h: counts[h] - exact[h])[:HABIT_BLOCK - sum(counts.values())]:
        counts[h] += 1
    return [h for h in Habit for _ in range(counts[h])]


def dealt_habit(seed: int, index: int, mix: CohortMix) -> Habit:
    """Athlete ``index``'s habit: stratified (each block of 20 holds every share) yet independent of N."""
    deck = habit_deck(mix)
    random.Random(f"strideline-habits:{seed}:{index // HABIT_BLOCK}").shuffle(deck)
    return deck[index % HABIT_BLOCK]


def draw_profile(rng: random.Random, index: int, habit: Habit, mix: CohortMix = DEFAULT_MIX) -> AthleteProfile:
    """Draw one athlete with a given habit. Uses only ``rng``: the same stream gives the same athlete."""
    fast_track = habit is Habit.STRENGTH_DROPPED  # did the early phases well, then dropped strength
    female = rng.random() < 0.45
    body_mass = round(rng.uniform(48, 72) if female else rng.uniform(62, 92), 1)
    if fast_track:
        weekly = rng.uniform(15, 24)
    else:
        weekly = min(70.0, 15 + rng.betavariate(2, 3) * 55)
    weekly = round(weekly, 1)
    longest = round(min(weekly, max(5.0, weekly * rng.uniform(0.25, 0.4))), 1)
    bone_stress = rng.random() < mix.bone_stress * (0.25 if fast_track else 1.0)
    under_fuels = rng.random() < (mix.under_fuelling * (2.0 if bone_stress else 0.7))
    if bone_stress:
        injury_type = InjuryType.BONE_STRESS
        high = rng.random() < mix.high_risk_site
        bone_site = rng.choice(HIGH_RISK_SITES if high else LOW_RISK_SITES)
        site = bone_site.value.replace("_", " ")
    else:
        injury_type = _weighted(rng, tuple(i[0] for i in INJURIES), tuple(i[1] for i in INJURIES))
        sites = next(i[2] for i in INJURIES if i[0] is injury_type)
        bone_site, site = None, rng.choice(sites)
    previous = _weighted(rng, (0, 1, 2, 3, 4), (0.4, 0.3, 0.15, 0.1, 0.05))
    short_sleep = rng.random() < mix.short_sleep
    contributors = [c for c, p in (
        (Contributor.TRAINING_LOAD_ERROR, 0.7), (Contributor.STRENGTH_DEFICIT, 0.6),
        (Contributor.MOVEMENT_INEFFICIENCY, 0.35), (Contributor.FOOTWEAR_OR_SURFACE, 0.15),
    ) if rng.random() < p]
    if previous:
        contributors.append(Contributor.PREVIOUS_INJURY)
    if under_fuels and rng.random() < 0.7:
        contributors.append(Contributor.LOW_ENERGY_AVAILABILITY)
    if short_sleep and rng.random() < 0.5:
        contributors.append(Contributor.POOR_SLEEP)
    if not contributors:
        contributors.append(Contributor.TRAINING_LOAD_ERROR)
    wake = rng.randint(5 * 60 + 30, 7 * 60 + 45)
    bed = rng.randint(21 * 60 + 45, 23 * 60 + 30)
    morning_trainer = rng.random() < 0.4
    session = wake + rng.randint(30, 75) if morning_trainer else rng.randint(17 * 60, 19 * 60 + 30)
    strength_days = rng.choice(((0, 2, 4), (1, 3, 5), (0, 3, 5), (1, 4, 6), (0, 2, 5)))
    run_days = rng.choice(((1, 3, 5, 6), (0, 2, 4, 6), (1, 2, 4, 6), (0, 3, 5, 6)))
    diligent = habit in (Habit.DILIGENT, Habit.STRENGTH_DROPPED)
    drops = habit is Habit.STRENGTH_DROPPED or (
        habit is not Habit.DILIGENT and rng.random() < mix.also_drops_strength)
    gaps = rng.random() < mix.logging_gaps
    quit_day = rng.randint(21, 100) if rng.random() < mix.quits else None
    return AthleteProfile(
        index=index,
        athlete_id=f"ath-{index + 1:04d}",
        habit=habit,
        drops_strength=drops,
        logging_gaps=gaps,
        quit_day=quit_day,
        short_sleep=short_sleep,
        under_fuels=under_fuels,
        tracks_calories=rng.random() < 0.45,
        body_mass_kg=body_mass,
        time_zone=rng.choice(ZONES),
        pre_injury_weekly_km=weekly,
        pre_injury_longest_run_km=longest,
        easy_pace=round(rng.uniform(4.9, 7.2), 2),
        injury_type=injury_type,
        site=site,
        bone_site=bone_site,
        side=Side.LEFT if rng.random() < 0.5 else Side.RIGHT,
        onset_days_before=rng.randint(35, 60) if fast_track else rng.randint(5, 45),
        previous_injuries=previous,
        previous_same_site=previous > 0 and rng.random() < 0.4,
        contributors=tuple(contributors),
        enrol_offset_days=rng.randint(0, 2) if fast_track else rng.randint(0, max(0, mix.enrol_spread_days - 1)),
        wake_minute=wake,
        bed_minute=bed,
        session_minute=session,
        strength_weekdays=strength_days,
        run_weekdays=run_days,
        adherence=rng.uniform(0.88, 0.98) if diligent else rng.uniform(0.7, 0.92),
        eager=fast_track or rng.random() < (0.3 if diligent else 0.6),
        log_rest_pain=rng.uniform(0.8, 0.97) if diligent else rng.uniform(0.6, 0.92),
        log_sleep=rng.uniform(0.5, 0.95),
        log_fuel=rng.uniform(0.3, 0.9),
        late_rate=rng.uniform(*mix.late_logging),
        follows_advice=rng.uniform(0.75, 0.95) if diligent else rng.uniform(0.3, 0.7),
        low_load_weeks=rng.choice((3, 4, 5, 6, 99)) if habit is Habit.LOW_LOAD else 0,
    )


def enrol_date(profile: AthleteProfile, start: dt.date) -> dt.date:
    return start + dt.timedelta(days=profile.enrol_offset_days)
