"""The athlete projection: every fold composed, and ``evolve(state, envelope) -> state``.

Folds are pure in the sense that matters here: no I/O, no clock, no randomness; the result depends
only on the state and the event. For speed the state is updated in place and returned (the caller
owns it; snapshot with ``copy_state``). Corrections (retraction, amendment) re-derive the affected
day from the entries the state keeps for the retained window (``RETENTION_DAYS``).
"""

from __future__ import annotations

import msgspec

from events import Envelope
from events.vocabulary import (
    HIGH_RISK_BONE_SITES,
    AssessmentRecorded,
    AthleteEnrolled,
    AthleteProfileUpdated,
    BoneSite,
    ClearanceRecorded,
    CrossTrainingLogged,
    EntryAmended,
    EntryRetracted,
    FuellingLogged,
    InjuryReported,
    IsometricLogged,
    LiftLogged,
    Measurement,
    PainReported,
    PlyometricLogged,
    ReadinessTestRecorded,
    RecommendationIssued,
    RecommendationWithdrawn,
    RunLogged,
    SleepLogged,
)
from projections import adherence as adh
from projections import capacity as cap
from projections import load as ld
from projections import pain as pn
from projections import phase as ph
from projections import recovery as rec
from projections.calendar import local_day

RETENTION_DAYS = 70
"""Per-day detail kept for ten weeks; older days survive only as archived bests and EWMAs."""


class Profile(msgspec.Struct, kw_only=True):
    enrolled: bool = False
    body_mass_kg: float = 70.0
    time_zone: str = "UTC"
    pre_injury_weekly_km: float = 0.0
    pre_injury_longest_run_km: float = 0.0
    injury_type: str | None = None
    bone_site: str | None = None
    previous_injuries: int = 0
    contributors: list[str] = []
    clearances: list[str] = []
    last_injury_position: int = 0

    @property
    def high_risk_bsi(self) -> bool:
        return self.bone_site in HIGH_RISK_BONE_SITES


class Entry(msgspec.Struct, array_like=True):
    day: int
    position: int
    data: Measurement


class QuarantinedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event the fold could not apply: set aside (deterministically) so the athlete goes on."""

    version: int
    position: int
    event_id: str
    type: str
    reason: str


class AthleteState(msgspec.Struct, kw_only=True):
    athlete_id: str = ""
    version: int = 0
    """The last stream version folded in: the projection's checkpoint."""
    position: int = 0
    last_recorded_us: int = 0
    last_decision_us: int = 0
    max_day: int = 0
    profile: Profile = msgspec.field(default_factory=Profile)
    pain: pn.PainState = msgspec.field(default_factory=pn.PainState)
    capacity: cap.CapacityState = msgspec.field(default_factory=cap.CapacityState)
    load: ld.LoadState = msgspec.field(default_factory=ld.LoadState)
    recovery: rec.RecoveryState = msgspec.field(default_factory=rec.RecoveryState)
    adherence: adh.AdherenceState = msgspec.field(default_factory=adh.AdherenceState)
    phase: ph.PhaseState = msgspec.field(default_factory=ph.PhaseState)
    entries: dict[str, Entry] = {}
    memory: dict[str, str] = {}
    """Decision memory: the advice in force per topic, as ``kind|rule_id|target`` (recommendations go
    out when it changes)."""
    memory_ids: dict[str, str] = {}
    """The recommendation id of the advice in force per topic (what a withdrawal or a successor names)."""
    pending_us: int = 0
    """recorded_at of the batch folded but not yet decided (0: none): a batch is one decision point."""
    pending_position: int = 0
    arrived: list[str] = []
    """Entries (event ids) folded since the previous decision point: what "the latest" rules judge."""
    corrected_days: list[int] = []
    """Days a retraction or amendment touched since the previous decision point."""
    quarantined: list[QuarantinedEvent] = []
    """Events the fold refused (see :func:`fold_or_quarantine`); kept so rebuilds and replays report them."""


_STRENGTH_RULES = cap.StrengthRules()
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(AthleteState)


def encode(state: AthleteState) -> bytes:
    return _encoder.encode(state)


def decode(raw: bytes) -> AthleteState:
    return _decoder.decode(raw)


def copy_state(state: AthleteState) -> AthleteState:
    return _decoder.decode(_encoder.encode(state))


def _apply_measurement(state: AthleteState, day: int, position: int, data: Measurement) -> None:
    match data:
        case PainReported():
            pn.apply(state.pain, day, data)
        case LiftLogged():
            cap.apply_lift(state.capacity, day, position, data, _STRENGTH_RULES)
            pn.apply_activity(state.pain, day, data.pain)
        case IsometricLogged():
            cap.apply_isometric(state.capacity, day, data)
            pn.apply_activity(state.pain, day, data.pain)
        case CrossTrainingLogged():
            ld.apply_cross_training(state.load, day, data)
            pn.apply_activity(state.pain, day, data.pain)
        case PlyometricLogged():
            cap.apply_plyometric(state.capacity, day, data)
            pn.apply_activity(state.pain, day, data.pain)
        case RunLogged():
            ld.apply_run(state.load, day, position, data)
            pn.apply_activity(state.pain, day, data.pain)
        case SleepLogged():
            rec.apply_sleep(state.recovery, day, data)
        case FuellingLogged():
            rec.apply_fuelling(state.recovery, day, data)
        case ReadinessTestRecorded():
            cap.apply_readiness(state.capacity, day, position, data)
            pn.apply_activity(state.pain, day, data.pain)
        case _:
            raise TypeError(f"not a measurement: {type(data).__name__}")
    adh.apply_log(state.adherence, day)


def _rederive_day(state: AthleteState, day: int) -> None:
    """Recompute one day from its surviving entries (after a retraction or amendment)."""
    pn.clear_day(state.pain, day)
    cap.clear_day(state.capacity, day)
    ld.clear_day(state.load, day)
    rec.clear_day(state.recovery, day)
    adh.clear_day(state.adherence, day)
    for entry in sorted((e for e in state.entries.values() if e.day == day), key=lambda e: e.position):
        _apply_measurement(state, day, entry.position, entry.data)
    _restore_latest(state)


def _restore_latest(state: AthleteState) -> None:
    """Re-derive the latest lift per exercise and the latest run from the retained entries."""
    state.capacity.last_session.clear()
    ordered = sorted(state.entries.values(), key=lambda e: (e.day, e.position))
    state.load.last_run = None
    for entry in ordered:
        data = entry.data
        if isinstance(data, LiftLogged):
            estimate = cap.e1rm(data.load_kg, data.reps, _STRENGTH_RULES.e1rm_formula)
            heavy = data.reps <= _STRENGTH_RULES.heavy_max_reps or \
                (data.rpe >= _STRENGTH_RULES.heavy_min_rpe and data.load_kg > 0)
            state.capacity.last_session[data.exercise] = cap.LiftSession(
                entry.day, entry.position, data.load_kg, data.reps, data.sets, data.rpe, estimate, heavy,
                not heavy and data.reps >= _STRENGTH_RULES.low_load_min_reps)
        elif isinstance(data, RunLogged) and data.kind != "walk":
            state.load.last_run = ld.RunRecord(entry.day, entry.position, data.distance_km, str(data.kind),
                                               data.rpe, ld.longest_before(state.load, entry.day))


def _prune(state: AthleteState, day: int) -> None:
    before = day - RETENTION_DAYS
    pn.prune(state.pain, before)
    cap.prune(state.capacity, before)
    ld.prune(state.load, before)
    rec.prune(state.recovery, before)
    adh.prune(state.adherence, before)
    for key in [k for k, e in state.entries.items() if e.day < before]:
        del state.entries[key]


def _update_profile(profile: Profile, update: AthleteProfileUpdated) -> None:
    """The fields an update names replace the profile's from here on: later events are dated in
    the new time zone, later decisions use the new body mass and pre-injury volume."""
    for name in ("time_zone", "body_mass_kg", "pre_injury_weekly_km", "pre_injury_longest_run_km"):
        value = getattr(update, name)
        if value is not None:
            setattr(profile, name, value)


def evolve(state: AthleteState, envelope: Envelope) -> AthleteState:
    """Fold one stored event of the athlete's stream into the state."""
    data = envelope.data
    profile = state.profile
    match data:
        case AthleteEnrolled():
            profile.enrolled = True
            profile.body_mass_kg = data.body_mass_kg
            profile.time_zone = data.time_zone
            profile.pre_injury_weekly_km = data.pre_injury_weekly_km
            profile.pre_injury_longest_run_km = data.pre_injury_longest_run_km
        case AthleteProfileUpdated():
            _update_profile(profile, data)
        case InjuryReported():
            profile.injury_type = str(data.injury_type)
            profile.bone_site = None if data.bone_site is None else str(data.bone_site)
            profile.previous_injuries = max(profile.previous_injuries, data.previous_running_injuries)
            profile.last_injury_position = envelope.position
        case AssessmentRecorded():
            profile.contributors = [str(c) for c in data.contributors]
        case ClearanceRecorded():
            if str(data.scope) not in profile.clearances:
                profile.clearances.append(str(data.scope))
        case EntryRetracted():
            entry = state.entries.pop(str(data.target_event_id), None)
            if entry is not None:
                _rederive_day(state, entry.day)
                state.corrected_days.append(entry.day)
        case EntryAmended():
            entry = state.entries.get(str(data.target_event_id))
            if entry is not None:
                entry.data = data.replacement
                _rederive_day(state, entry.day)
                state.corrected_days.append(entry.day)
                state.arrived.append(str(data.target_event_id))
        case RecommendationIssued() | RecommendationWithdrawn():
            pass  # recommendations live in their own stream; never part of an athlete's inputs
        case PainReported() | LiftLogged() | PlyometricLogged() | RunLogged() | SleepLogged() | \
                FuellingLogged() | ReadinessTestRecorded() | IsometricLogged() | CrossTrainingLogged():
            day = local_day(envelope.occurred_at, profile.time_zone)
            state.entries[str(envelope.event_id)] = Entry(day, envelope.position, data)
            state.arrived.append(str(envelope.event_id))
            _apply_measurement(state, day, envelope.position, data)
            if day > state.max_day:
                if state.max_day and day // 7 != state.max_day // 7:
                    _prune(state, day)
                state.max_day = day
        case _:
            raise TypeError(f"no fold for event type {type(data).__name__}")
    state.version = envelope.version
    state.position = envelope.position
    return state


def fold_or_quarantine(state: AthleteState, envelope: Envelope) -> QuarantinedEvent | None:
    """Fold one event; an event the fold cannot apply is quarantined instead of stopping the athlete.

    Validation at the edge should make this unreachable; it is defence in depth. The outcome depends
    only on the state and the event, so live processing and a replay quarantine the same events.
    """
    try:
        evolve(state, envelope)
        return None
    except (ArithmeticError, ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        item = QuarantinedEvent(version=envelope.version, position=envelope.position,
                                event_id=str(envelope.event_id), type=envelope.type,
                                reason=f"{type(exc).__name__}: {exc}"[:500])
        state.quarantined.append(item)
        state.version = envelope.version
        state.position = envelope.position
        return item


def fold(envelopes, state: AthleteState | None = None) -> AthleteState:
    """Fold a sequence of envelopes from scratch (or onto ``state``)."""
    state = state or AthleteState()
    for envelope in envelopes:
        evolve(state, envelope)
    return state


__all__ = ["AthleteState", "BoneSite", "Entry", "Profile", "QuarantinedEvent", "copy_state", "decode",
           "encode", "evolve", "fold", "fold_or_quarantine"]
