"""The v1 event vocabulary: what an athlete's app can say happened.

Every event is a frozen msgspec Struct with a permanent tag (the ``type`` field on the wire).
Range checks live in the types (``Meta``) and in ``__post_init__`` so that the one decode at the
edge validates everything and the error names the field. Evolution rules: docs/schema-evolution.md.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

# --- constrained scalar types, named once -------------------------------------------------------

Score = Annotated[int, Meta(ge=0, le=10, description="0-10 scale")]
RPE = Annotated[float, Meta(ge=0, le=10, description="rating of perceived exertion, 0-10")]
LoadKg = Annotated[float, Meta(ge=0, le=1000, description="external load in kg, finite, >= 0")]
Reps = Annotated[int, Meta(ge=1, le=100)]
Sets = Annotated[int, Meta(ge=1, le=20)]
BodyMassKg = Annotated[float, Meta(gt=20, le=300)]
WeeklyKm = Annotated[float, Meta(ge=0, le=400)]
RunKm = Annotated[float, Meta(gt=0, le=250, description="a single run, km (> 0, at most 250)")]
Minutes = Annotated[float, Meta(gt=0, le=1800, description="minutes (> 0, at most 30 h)")]
Hours = Annotated[float, Meta(ge=0, le=24)]
ShortText = Annotated[str, Meta(max_length=80, pattern=r"^[A-Za-z0-9_.\- ]+$")]
Note = Annotated[str, Meta(max_length=1000)]
Name = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


class Context(enum.StrEnum):
    REST = "rest"
    DURING = "during"
    AFTER = "after"
    NEXT_MORNING = "next_morning"


class Side(enum.StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"


class RunKind(enum.StrEnum):
    EASY = "easy"
    LONG = "long"
    TEMPO = "tempo"
    INTERVAL = "interval"
    RACE = "race"
    WALK_RUN = "walk_run"
    WALK = "walk"


INTENSE_RUN_KINDS = frozenset({RunKind.TEMPO, RunKind.INTERVAL, RunKind.RACE})


class InjuryType(enum.StrEnum):
    TENDINOPATHY = "tendinopathy"
    BONE_STRESS = "bone_stress"
    MUSCLE_STRAIN = "muscle_strain"
    PLANTAR_FASCIA = "plantar_fascia"
    PATELLOFEMORAL = "patellofemoral"
    ITB = "iliotibial_band"
    JOINT = "joint"
    OTHER = "other"


class BoneSite(enum.StrEnum):
    """Bone stress injury sites; the first seven are high-risk (RULES.md section 3)."""

    FEMORAL_NECK = "femoral_neck"
    ANTERIOR_TIBIAL_CORTEX = "anterior_tibial_cortex"
    NAVICULAR = "navicular"
    MEDIAL_MALLEOLUS = "medial_malleolus"
    BASE_5TH_METATARSAL = "base_5th_metatarsal"
    BASE_2ND_METATARSAL = "base_2nd_metatarsal"
    SESAMOIDS = "sesamoids"
    POSTEROMEDIAL_TIBIA = "posteromedial_tibia"
    METATARSAL_SHAFT = "metatarsal_shaft"
    FIBULA = "fibula"
    CALCANEUS = "calcaneus"
    PELVIS = "pelvis"
    OTHER = "other"


HIGH_RISK_BONE_SITES = frozenset(list(BoneSite)[:7])


class Contributor(enum.StrEnum):
    """Root-cause contributors an assessment can record (RULES.md section 3)."""

    TRAINING_LOAD_ERROR = "training_load_error"
    STRENGTH_DEFICIT = "strength_deficit"
    MOVEMENT_INEFFICIENCY = "movement_inefficiency"
    PREVIOUS_INJURY = "previous_injury"
    LOW_ENERGY_AVAILABILITY = "low_energy_availability"
    POOR_SLEEP = "poor_sleep"
    FOOTWEAR_OR_SURFACE = "footwear_or_surface"


class Drill(enum.StrEnum):
    """The plyometric ladder: double-leg pogo -> jumps -> single-leg hops (RULES.md section 1)."""

    POGO = "pogo"
    DOUBLE_LEG_JUMP = "double_leg_jump"
    BOX_JUMP = "box_jump"
    SKIPPING = "skipping"
    SINGLE_LEG_HOP = "single_leg_hop"
    BOUNDING = "bounding"


class ReadinessTest(enum.StrEnum):
    """The return-to-run readiness tests of RULES.md section 1."""

    BRISK_WALK_30MIN = "brisk_walk_30min"
    SINGLE_LEG_SQUAT_10 = "single_leg_squat_10"
    SINGLE_LEG_HOPS = "single_leg_hops"
    JOG_ON_SPOT_1MIN = "jog_on_spot_1min"
    HOP_SYMMETRY = "hop_symmetry"


class ClearanceScope(enum.StrEnum):
    RUNNING = "running"
    PLYOMETRICS = "plyometrics"
    FULL = "full"


# --- the events ---------------------------------------------------------------------------------


class Event(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="type",
    omit_defaults=True,
):
    """Base of every event payload. Subclasses set a permanent ``tag``."""


TimeZone = Annotated[str, Meta(min_length=1, max_length=64, description="an IANA time zone (Europe/London)")]


def _check_zone(time_zone: str) -> None:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {time_zone!r}") from None


class AthleteEnrolled(Event, tag="athlete.enrolled"):
    """Once per athlete, first in their stream; later changes are ``athlete.profile_updated``."""

    body_mass_kg: BodyMassKg
    time_zone: TimeZone
    pre_injury_weekly_km: WeeklyKm
    pre_injury_longest_run_km: RunKm

    def __post_init__(self) -> None:
        _check_zone(self.time_zone)
        if 0 < self.pre_injury_weekly_km < self.pre_injury_longest_run_km:
            raise ValueError("pre_injury_longest_run_km exceeds pre_injury_weekly_km")


class AthleteProfileUpdated(Event, tag="athlete.profile_updated"):
    """A move to another time zone, a new body mass or a corrected pre-injury volume: in force from
    this event on (days and decisions before it keep the values they were made with)."""

    time_zone: TimeZone | None = None
    body_mass_kg: BodyMassKg | None = None
    pre_injury_weekly_km: Annotated[float, Meta(gt=0, le=400)] | None = None
    pre_injury_longest_run_km: RunKm | None = None

    def __post_init__(self) -> None:
        if all(getattr(self, name) is None for name in self.__struct_fields__):
            raise ValueError("a profile update changes at least one of time_zone, body_mass_kg, "
                             "pre_injury_weekly_km, pre_injury_longest_run_km")
        if self.time_zone is not None:
            _check_zone(self.time_zone)
        weekly, longest = self.pre_injury_weekly_km, self.pre_injury_longest_run_km
        if weekly is not None and longest is not None and weekly < longest:
            raise ValueError("pre_injury_longest_run_km exceeds pre_injury_weekly_km")


class InjuryReported(Event, tag="injury.reported"):
    injury_type: InjuryType
    onset_date: dt.date
    site: ShortText = "unspecified"
    bone_site: BoneSite | None = None
    previous_running_injuries: Annotated[int, Meta(ge=0, le=50)] = 0
    previous_same_site: bool = False

    def __post_init__(self) -> None:
        if self.injury_type == InjuryType.BONE_STRESS and self.bone_site is None:
            raise ValueError("bone_site is required for a bone_stress injury")
        if self.injury_type != InjuryType.BONE_STRESS and self.bone_site is not None:
            raise ValueError("bone_site is only allowed for a bone_stress injury")


class AssessmentRecorded(Event, tag="assessment.recorded"):
    contributors: Annotated[list[Contributor], Meta(max_length=len(Contributor))]
    note: Note = ""

    def __post_init__(self) -> None:
        if len(set(self.contributors)) != len(self.contributors):
            raise ValueError("contributors must not repeat")


class PainReported(Event, tag="pain.reported"):
    score: Score
    context: Context
    site: ShortText = "injury"
    bony_tenderness: bool = False
    note: Note = ""


class LiftLogged(Event, tag="lift.logged"):
    exercise: Name
    load_kg: LoadKg
    reps: Reps
    sets: Sets
    rpe: RPE
    side: Side = Side.BOTH
    pain: Score | None = None
    """Pain during the lift, if the app asks: an activity pain report (RULES.md 4)."""

    def __post_init__(self) -> None:
        if not math.isfinite(self.load_kg):
            raise ValueError("load_kg must be finite")


class IsometricLogged(Event, tag="isometric.logged"):
    """An isometric hold (e.g. wall sit, calf raise hold): a duration, not a heavy set by rep count."""

    exercise: Name
    hold_seconds: Annotated[float, Meta(gt=0, le=600)]
    sets: Sets
    load_kg: LoadKg = 0.0
    rpe: RPE | None = None
    side: Side = Side.BOTH
    pain: Score | None = None


class CrossTrainingActivity(enum.StrEnum):
    CYCLING = "cycling"
    SWIMMING = "swimming"
    ELLIPTICAL = "elliptical"
    ROWING = "rowing"
    AQUA_JOGGING = "aqua_jogging"
    OTHER = "other"


class CrossTrainingLogged(Event, tag="cross_training.logged"):
    """Easy non-impact training (RULES.md 1, settle): load modification, not full rest."""

    activity: CrossTrainingActivity
    duration_min: Minutes
    rpe: RPE
    pain: Score | None = None


class PlyometricLogged(Event, tag="plyometric.logged"):
    drill: Drill
    foot_contacts: Annotated[int, Meta(ge=1, le=1000)]
    pain: Score


class RunLogged(Event, tag="run.logged"):
    distance_km: RunKm
    duration_min: Minutes
    rpe: RPE
    kind: RunKind = RunKind.EASY
    walk_run_level: Annotated[int, Meta(ge=1, le=12)] | None = None
    pain: Score | None = None
    """Pain during or after the run, if the app asks: an activity pain report (RULES.md 4)."""

    def __post_init__(self) -> None:
        pace = self.duration_min / self.distance_km
        if pace < 2.5:
            raise ValueError(f"pace {pace:.2f} min/km is faster than humanly plausible (< 2.5 min/km)")
        if pace > 30:
            raise ValueError(f"pace {pace:.2f} min/km is slower than a walk (> 30 min/km)")
        if self.kind == RunKind.WALK_RUN and self.walk_run_level is None:
            raise ValueError("walk_run_level is required when kind is walk_run")
        if self.kind != RunKind.WALK_RUN and self.walk_run_level is not None:
            raise ValueError("walk_run_level is only allowed when kind is walk_run")


class SleepLogged(Event, tag="sleep.logged"):
    hours: Hours
    quality: Annotated[int, Meta(ge=1, le=5)] | None = None


class FuellingLogged(Event, tag="fuelling.logged"):
    """A day's fuelling: energy intake if known, and the athlete's own under-fuelled flag."""

    under_fuelled: bool
    energy_kcal: Annotated[float, Meta(ge=0, le=15000)] | None = None


class ReadinessTestRecorded(Event, tag="readiness_test.recorded"):
    test: ReadinessTest
    passed: bool
    pain: Score
    result: Annotated[float, Meta(ge=0, le=1000)] | None = None
    """Reps, hops, minutes, or hop symmetry in percent, by test."""

    def __post_init__(self) -> None:
        if self.test == ReadinessTest.HOP_SYMMETRY:
            if self.result is None:
                raise ValueError("result (symmetry percent) is required for hop_symmetry")
            if self.result > 150:
                raise ValueError("hop_symmetry result is a percentage, at most 150")


class ClearanceRecorded(Event, tag="clearance.recorded"):
    scope: ClearanceScope
    clinician: ShortText


class EntryRetracted(Event, tag="entry.retracted"):
    target_event_id: uuid.UUID
    reason: Note = ""


class RecommendationIssued(Event, tag="recommendation.issued"):
    """The policy's output; written by the engine only, never accepted from a client."""

    recommendation_id: uuid.UUID
    athlete_id: str
    kind: str
    topic: str
    rule_id: str
    explanation: str
    policy_name: str
    policy_version: str
    decision_time: dt.datetime
    trigger_position: int
    target: dict[str, float | int | str | bool] = {}
    rationale: dict[str, float | int | str | bool | None] = {}
    supersedes: uuid.UUID | None = None
    """The recommendation on the same topic this one replaces (None: the topic had no advice)."""


class WithdrawalReason(enum.StrEnum):
    SUPERSEDED = "superseded"
    """Replaced by advice on another topic (a phase change, the bundled pain deload)."""
    NO_LONGER_HOLDS = "no_longer_holds"
    """The situation changed (missing days arrived, pain settled, the phase moved on)."""
    CORRECTION = "correction"
    """A retraction or amendment removed the evidence the advice stood on."""


class RecommendationWithdrawn(Event, tag="recommendation.withdrawn"):
    """Advice that is no longer in force; written by the engine only, delivered like a recommendation."""

    withdrawal_id: uuid.UUID
    recommendation_id: uuid.UUID
    """The recommendation withdrawn."""
    athlete_id: str
    kind: str
    """The withdrawn recommendation's kind (routing treats both alike)."""
    topic: str
    rule_id: str
    reason: WithdrawalReason
    explanation: str
    policy_name: str
    policy_version: str
    decision_time: dt.datetime
    trigger_position: int
    superseded_by: uuid.UUID | None = None


# Events a correction may replace: the measurements an athlete logs.
Measurement = (
    PainReported
    | LiftLogged
    | IsometricLogged
    | CrossTrainingLogged
    | PlyometricLogged
    | RunLogged
    | SleepLogged
    | FuellingLogged
    | ReadinessTestRecorded
)


class EntryAmended(Event, tag="entry.amended"):
    target_event_id: uuid.UUID
    replacement: Measurement
    reason: Note = ""


ClientEvent = (
    AthleteEnrolled
    | AthleteProfileUpdated
    | InjuryReported
    | AssessmentRecorded
    | Measurement
    | ClearanceRecorded
    | EntryRetracted
    | EntryAmended
)
"""Every event a client may send (recommendations are the engine's own)."""

RecommendationEvent = RecommendationIssued | RecommendationWithdrawn
"""What an athlete's recommendation stream holds: advice issued and advice withdrawn."""

AnyEvent = ClientEvent | RecommendationIssued | RecommendationWithdrawn
"""Every event the store can hold."""

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in AnyEvent.__args__  # type: ignore[attr-defined]
}


def event_type(event: Event) -> str:
    """The permanent tag of an event instance."""
    return type(event).__struct_config__.tag  # type: ignore[return-value]
