"""Ingest: the one way events get into the store (used by the Python API, HTTP and the CLI).

It validates everything a client can get wrong, appends the batch atomically, then sends a wake-up
(only the athlete id) so the projector catches up. A rejected batch stores nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from engine import metrics
from engine.clock import Clock, SystemClock
from engine.store.base import AppendResult, EventStore
from events import Envelope, InvalidEvent, NewEvent
from events.codec import decode_batch, validate, validate_typed
from events.vocabulary import AthleteEnrolled, AthleteProfileUpdated, EntryAmended, EntryRetracted, event_type

ATHLETE_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
"""Matched in full (``fullmatch``): ``$`` would let a trailing newline through."""
MAX_FUTURE_SKEW = dt.timedelta(minutes=5)
EARLIEST_OCCURRED_AT = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
"""No event of a returning runner happened before this; earlier dates are typing errors (0001-01-01
even overflows local-time arithmetic in zones west of UTC)."""
MAX_BEFORE_ENROLMENT = dt.timedelta(days=90)
"""A diary kept before enrolling may be back-filled this far before the enrolment's occurred_at."""
MAX_CACHED_ENROLMENTS = 100_000

Wake = Callable[[str], None]


def check_athlete_id(athlete_id: str) -> str:
    if not isinstance(athlete_id, str) or not ATHLETE_ID.fullmatch(athlete_id):
        raise InvalidEvent(
            "athlete id must be 1-64 characters of letters, digits, '_' or '-'", "athlete_id"
        )
    return athlete_id


def _validated(events: Iterable[NewEvent | dict[str, Any]]) -> list[NewEvent]:
    """Python objects validated as strictly as JSON: a list of ``NewEvent`` (typed input: the
    simulator, importers) by a JSON round trip in msgspec's C code (``validate_typed``, the JSON
    API's errors); anything else through ``validate``."""
    if type(events) is list and events and all(type(e) is NewEvent for e in events):
        return validate_typed(events)
    return validate(events)


def _refuse_times(batch: list[NewEvent], latest: dt.datetime, skew: dt.timedelta) -> None:
    """Every occurred_at in the future (beyond the allowed skew) or before 2000, each at its path."""
    errors = []
    for index, event in enumerate(batch):
        if event.occurred_at > latest:
            errors.append(InvalidEvent(
                f"occurred_at {event.occurred_at.isoformat()} is in the future "
                f"(more than {skew} ahead of the server clock)",
                f"$[{index}].occurred_at",
            ))
        elif event.occurred_at < EARLIEST_OCCURRED_AT:
            errors.append(InvalidEvent(
                f"occurred_at {event.occurred_at.isoformat()} is before "
                f"{EARLIEST_OCCURRED_AT.date().isoformat()}", f"$[{index}].occurred_at"))
    if errors:
        raise InvalidEvent.every(errors)


def _tag_counts(kinds: list[type]) -> dict[str, int]:
    """How many events of each type tag (a plain loop: ``collections.Counter`` costs more than the
    counting for the 1-2 events of a typical submission)."""
    counts: dict[type, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return {kind.__struct_config__.tag: count for kind, count in counts.items()}


class Ingestor:
    """Validates and appends one athlete's events; wakes the pipeline after each commit."""

    def __init__(
        self,
        store: EventStore,
        *,
        clock: Clock | None = None,
        wake: Wake | None = None,
        max_future_skew: dt.timedelta = MAX_FUTURE_SKEW,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.wake = wake or (lambda athlete_id: None)
        self.max_future_skew = max_future_skew
        self._enrolments: dict[str, Envelope] = {}

    def append(
        self,
        athlete_id: str,
        events: Iterable[NewEvent | dict[str, Any]],
        expected_version: int | None = None,
    ) -> AppendResult:
        """Append Python objects (NewEvent or dicts shaped like the JSON API)."""
        return self._append(athlete_id, _validated(events), expected_version)

    def append_json(
        self, athlete_id: str, raw: bytes | str, expected_version: int | None = None
    ) -> AppendResult:
        """Append a JSON array of events, as the HTTP API and files deliver them."""
        return self._append(athlete_id, decode_batch(raw), expected_version)

    def _append(
        self, athlete_id: str, batch: list[NewEvent], expected_version: int | None
    ) -> AppendResult:
        check_athlete_id(athlete_id)
        if expected_version is not None and (not isinstance(expected_version, int) or expected_version < 0):
            raise InvalidEvent("expected_version must be an integer >= 0", "expected_version")
        latest = self.clock.now() + self.max_future_skew
        times = [event.occurred_at for event in batch]
        first = min(times)
        if max(times) > latest or first < EARLIEST_OCCURRED_AT:  # two C passes when all is well
            _refuse_times(batch, latest, self.max_future_skew)
        kinds = [type(event.data) for event in batch]
        self._check_stream_rules(athlete_id, batch, kinds, first)
        started = time.perf_counter()
        result = self.store.append(athlete_id, batch, expected_version)
        seconds = time.perf_counter() - started
        if result.duplicates:
            kinds = [kind for index, kind in enumerate(kinds) if index not in result.duplicates]
        metrics.events_appended(_tag_counts(kinds), result.deduplicated, seconds)
        self.wake(athlete_id)
        return result

    @staticmethod
    def _check_before_enrolment(batch: list[NewEvent], enrolled_at: dt.datetime) -> None:
        """Nothing more than the back-fill window before the enrolment; no profile update before it."""
        earliest = enrolled_at - MAX_BEFORE_ENROLMENT
        early = [InvalidEvent(
            f"occurred_at {event.occurred_at.isoformat()} is more than {MAX_BEFORE_ENROLMENT.days} "
            f"days before the enrolment ({enrolled_at.isoformat()}): the back-fill window",
            f"$[{index}].occurred_at") for index, event in enumerate(batch) if event.occurred_at < earliest]
        early += [InvalidEvent(  # a profile changes from the enrolment on, never before it
            f"athlete.profile_updated at {event.occurred_at.isoformat()} is before the enrolment "
            f"({enrolled_at.isoformat()})", f"$[{index}].occurred_at") for index, event in enumerate(batch)
            if isinstance(event.data, AthleteProfileUpdated) and earliest <= event.occurred_at < enrolled_at]
        if early:
            raise InvalidEvent.every(early)

    def _first_event(self, athlete_id: str) -> list[Envelope]:
        """The stream's first event (none for a new athlete), cached once it is the enrolment: a
        stored event never changes (the store refuses updates), so the cache holds in every process
        and only an athlete's first appends read it from the store."""
        cached = self._enrolments.get(athlete_id)
        if cached is not None:
            return [cached]
        stored = self.store.read_stream(athlete_id, 1, 1)
        if stored and isinstance(stored[0].data, AthleteEnrolled):
            if len(self._enrolments) >= MAX_CACHED_ENROLMENTS:
                self._enrolments.clear()
            self._enrolments[athlete_id] = stored[0]
        return stored

    def _check_one_enrolment(self, athlete_id: str, batch: list[NewEvent], kinds: list[type]) -> dt.datetime:
        """Enrolment first and once: a second ``athlete.enrolled`` would silently change the time
        zone, body mass or pre-injury volume under every past decision, so it is refused (a re-sent
        copy of the stored one, same ``event_id``, is a retry and passes). Returns its instant.
        ``kinds``: each event's data class (only the batch's enrolments are looked at)."""
        stored = self._first_event(athlete_id)
        original = stored[0] if stored and isinstance(stored[0].data, AthleteEnrolled) else None
        if not stored and not isinstance(batch[0].data, AthleteEnrolled):
            raise InvalidEvent(
                f"athlete {athlete_id!r} has no events yet: the first must be athlete.enrolled",
                "$[0].data.type",
            )
        enrolments = [index for index, kind in enumerate(kinds) if kind is AthleteEnrolled]
        if not enrolments:
            return stored[0].occurred_at
        errors = []
        for index in enrolments:
            event = batch[index]
            if not stored and index == 0:
                continue
            if original is not None and event.event_id == original.event_id:
                continue  # the stored enrolment re-sent (a retry or an offline superset)
            enrolled = original.data if original is not None else batch[0].data
            zone = ""
            if isinstance(enrolled, AthleteEnrolled) and enrolled.time_zone != event.data.time_zone:
                zone = f" (it would change the time zone {enrolled.time_zone} -> {event.data.time_zone})"
            errors.append(InvalidEvent(
                f"athlete {athlete_id!r} is already enrolled{zone}: athlete.enrolled is accepted once; "
                "to change the time zone, body mass or pre-injury volume send athlete.profile_updated "
                "(in force from its occurred_at on)", f"$[{index}].data.type"))
        if errors:
            raise InvalidEvent.every(errors)
        return stored[0].occurred_at if stored else batch[0].occurred_at

    def _check_stream_rules(self, athlete_id: str, batch: list[NewEvent], kinds: list[type],
                            earliest_occurred: dt.datetime) -> None:
        """Rules that need the stream: enrolment first and once; nothing long before the
        enrolment; corrections point at this athlete's log. ``kinds``: each event's data class;
        ``earliest_occurred``: the batch's first occurred_at (rules that cannot fail are skipped)."""
        enrolled_at = self._check_one_enrolment(athlete_id, batch, kinds)
        if earliest_occurred < enrolled_at:  # else no event is before the enrolment
            self._check_before_enrolment(batch, enrolled_at)
        corrections = [index for index, kind in enumerate(kinds) if kind is EntryAmended or kind is EntryRetracted]
        if not corrections:
            return
        wanted = {batch[index].data.target_event_id.int for index in corrections}
        in_batch = {e.event_id: e for e in batch if e.event_id is not None and e.event_id.int in wanted}
        for index in corrections:
            event = batch[index]
            path = f"$[{index}].data.target_event_id"
            target_id = event.data.target_event_id
            target = in_batch.get(target_id)
            if target is not None:
                target_data, target_stream = target.data, athlete_id
            else:
                stored = self.store.get_event(target_id)
                if stored is None:
                    raise InvalidEvent(f"no stored event has id {target_id}", path)
                target_data, target_stream = stored.data, stored.stream
            if target_stream != athlete_id:
                raise InvalidEvent(f"event {target_id} belongs to another athlete", path)
            if isinstance(event.data, EntryAmended) and event_type(target_data) != event_type(
                event.data.replacement
            ):
                raise InvalidEvent(
                    f"an amendment must keep the type: target is {event_type(target_data)}, "
                    f"replacement is {event_type(event.data.replacement)}",
                    f"$[{index}].data.replacement.type",
                )
