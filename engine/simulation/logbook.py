"""How an athlete's app sends what they log: ids, batches, late sends and corrections.

Everything an athlete logs passes through a :class:`Logbook`, which gives each event a
deterministic id from the athlete's random stream, groups events into the batches the app would
send, sends some of them hours late (backdating: ``occurred_at`` well before ``send_at``),
now and then logs a typo that is amended later or a double tap whose copy is retracted later.
Batches must be opened in time order within a day; a correction is sent in the first batch after
its target was sent.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import msgspec

from events.envelope import NewEvent
from events.vocabulary import (
    AthleteProfileUpdated, EntryAmended, EntryRetracted, Event, LiftLogged, PainReported, RunLogged,
    SleepLogged,
)

UTC = dt.timezone.utc
SOURCE = "simulator"
MINUTES = tuple(dt.timedelta(minutes=m) for m in range(0, 2 * 1440))
_replace = msgspec.structs.replace
_UUID = uuid.UUID
_UUID_NEW = object.__new__
_SET = object.__setattr__
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)
_SAFE = uuid.SafeUUID.unknown
_OUTSIDE_STREAM = uuid.UUID("6f1c5d2e-3b7a-4c8e-9f10-5a2b7c4d8e01")
"""Namespace of the ids given without the random stream (weigh-ins): uuid5 of athlete and instant,
re-stamped as version 4."""


def new_id(rng: random.Random) -> uuid.UUID:
    """``uuid.UUID(int=rng.getrandbits(128), version=4)``, built without UUID.__init__'s checks."""
    u = _UUID_NEW(_UUID)
    _SET(u, "int", (rng.getrandbits(128) & _V4_CLEAR) | _V4_SET)
    _SET(u, "is_safe", _SAFE)
    return u


def typo_of(data: Event) -> Event:
    """A plausible, still valid, wrong version of a measurement (fat finger, watch left running)."""
    if type(data) is LiftLogged:
        if 0 < data.load_kg <= 100:
            return _replace(data, load_kg=data.load_kg * 10)
        return _replace(data, reps=min(100, data.reps * 10))
    if type(data) is RunLogged:
        duration = data.duration_min + 60
        if duration / data.distance_km <= 30:
            return _replace(data, duration_min=duration)
        return _replace(data, rpe=10.0 - data.rpe if data.rpe != 5 else 9.0)
    if type(data) is PainReported:
        return _replace(data, score=8 if data.score < 5 else 1)
    if type(data) is SleepLogged:
        return _replace(data, hours=data.hours + 10 if data.hours <= 14 else data.hours - 5)
    raise TypeError(f"no typo for {type(data).__name__}")


_TYPO_TYPES = (LiftLogged, RunLogged, PainReported, SleepLogged)
_DUPLICATE_TYPES = (LiftLogged, RunLogged)


class Logbook:
    __slots__ = ("rng", "late_rate", "typo_rate", "duplicate_rate", "origin", "out", "evening",
                 "carry", "pending", "last_send", "key")

    def __init__(self, rng: random.Random, late_rate: float, typo_rate: float, duplicate_rate: float,
                 key: str = "") -> None:
        self.rng = rng
        self.key = key
        """The athlete's id: names the events whose ids do not come from the random stream."""
        self.late_rate = late_rate
        self.typo_rate = typo_rate
        self.duplicate_rate = duplicate_rate
        self.origin = dt.datetime(1970, 1, 1, tzinfo=UTC)
        self.out: list[tuple[dt.datetime, list[NewEvent]]] = []
        """Today's batches: (send_at, events), in send order."""
        self.evening: list[tuple[dt.datetime, Event]] = []
        """Logs held back today, sent with the evening batch."""
        self.carry: list[tuple[dt.datetime, Event]] = []
        """Logs held back overnight, sent with the next morning batch."""
        self.pending: list[tuple[dt.datetime, Event]] = []
        """Corrections waiting: (not before, correction)."""
        self.last_send = self.origin

    def start_day(self, origin: dt.datetime) -> None:
        self.origin = origin
        self.out = []

    def at(self, minute: int) -> dt.datetime:
        """The instant of a local minute of today (minute may run past midnight)."""
        return self.origin + MINUTES[minute]

    def log(self, send_minute: int, items: list[tuple[dt.datetime, Event]], *, late_ok: bool = True,
            evening_minute: int = 1320) -> None:
        """The app sends ``items`` at ``send_minute`` (or, now and then, hours later)."""
        if late_ok and self.rng.random() < self.late_rate:
            if send_minute < evening_minute - 120:
                self.evening.extend(items)
            else:
                self.carry.extend(items)
            return
        self._batch(self.at(send_minute), items)

    def morning(self, send_minute: int, items: list[tuple[dt.datetime, Event]]) -> None:
        """The first batch of a logged day: last night's held-back logs first."""
        carried, self.carry = self.carry, []
        self._batch(self.at(send_minute), carried + items)

    def close_evening(self, send_minute: int, items: list[tuple[dt.datetime, Event]]) -> None:
        held, self.evening = self.evening, []
        self._batch(self.at(send_minute), held + items)

    def hold_over(self) -> None:
        """A day without logging: what was held for the evening waits for the next logged morning."""
        self.carry.extend(self.evening)
        self.evening = []

    def _batch(self, send: dt.datetime, items: list[tuple[dt.datetime, Event]]) -> None:
        if send < self.last_send:
            send = self.last_send
        rng = self.rng
        random, bits = rng.random, rng.getrandbits
        typo_rate, duplicate_rate = self.typo_rate, self.duplicate_rate
        events: list[NewEvent] = []
        add = events.append
        for occurred, data in items:
            if occurred > send:
                occurred = send
            kind = type(data)
            if kind is AthleteProfileUpdated:  # a weigh-in: its id leaves the random stream untouched
                name = uuid.uuid5(_OUTSIDE_STREAM, f"{self.key}/{occurred.isoformat()}")
                event_id = uuid.UUID(bytes=name.bytes, version=4)  # shaped like every other client id
                add(NewEvent(data=data, occurred_at=occurred, event_id=event_id, source=SOURCE))
                continue
            if kind in _TYPO_TYPES:
                roll = random()
                if roll < typo_rate:
                    wrong = typo_of(data)
                    event_id = new_id(rng)
                    add(NewEvent(data=wrong, occurred_at=occurred, event_id=event_id, source=SOURCE))
                    fix = EntryAmended(target_event_id=event_id, replacement=data, reason="typo")
                    self.pending.append((send + MINUTES[5 + int(random() * 1200)], fix))
                    continue
                if kind in _DUPLICATE_TYPES and roll < typo_rate + duplicate_rate:
                    add(NewEvent(data=data, occurred_at=occurred, event_id=new_id(rng), source=SOURCE))
                    copy_id = new_id(rng)
                    add(NewEvent(data=data, occurred_at=occurred, event_id=copy_id, source=SOURCE))
                    fix = EntryRetracted(target_event_id=copy_id, reason="duplicate")
                    self.pending.append((send + MINUTES[2 + int(random() * 600)], fix))
                    continue
            # new_id, inlined: this is the simulator's innermost loop.
            event_id = _UUID_NEW(_UUID)
            _SET(event_id, "int", (bits(128) & _V4_CLEAR) | _V4_SET)
            _SET(event_id, "is_safe", _SAFE)
            add(NewEvent(data=data, occurred_at=occurred, event_id=event_id, source=SOURCE))
        if self.pending:
            due = [c for c in self.pending if c[0] <= send]
            if due:
                self.pending = [c for c in self.pending if c[0] > send]
                for _, fix in due:
                    add(NewEvent(data=fix, occurred_at=send, event_id=new_id(rng), source=SOURCE))
        if events:
            self.out.append((send, events))
            self.last_send = send
