"""The roster: the athletes a key may see, a page at a time, with the facts a coach filters on
(phase, open flags, days since the last log). Computed from each athlete's saved projection and
advice in force, so a page costs one projection load and one advice fold per athlete scanned;
filters that reject many athletes scan further (at most ``MAX_SCAN`` per page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from engine.keys import ApiKey
from engine.tenancy.access import visible_athletes

MAX_SCAN = 2000


class RosterEntry(msgspec.Struct, frozen=True, kw_only=True):
    athlete_id: str
    phase: str | None
    """None: not projected yet."""
    open_flags: list[str]
    """Topics whose advice in force is a flag (a drop-off risk the coach should act on)."""
    days_since_last_log: int | None
    version: int


class RosterPage(msgspec.Struct, frozen=True, kw_only=True):
    athletes: list[RosterEntry]
    next_after: str | None
    """Pass as ``after`` for the next page; None at the end."""


class RosterFilter(msgspec.Struct, frozen=True, kw_only=True):
    phase: str | None = None
    has_open_flags: bool | None = None
    min_days_since_last_log: int | None = None

    def accepts(self, entry: RosterEntry) -> bool:
        if self.phase is not None and entry.phase != self.phase:
            return False
        if self.has_open_flags is not None and bool(entry.open_flags) != self.has_open_flags:
            return False
        if self.min_days_since_last_log is not None:
            days = entry.days_since_last_log
            return days is not None and days >= self.min_days_since_last_log
        return True


def roster(store: Any, key: ApiKey, now: dt.datetime, *, after: str = "", limit: int = 50,
           where: RosterFilter | None = None) -> RosterPage:
    where = where or RosterFilter()
    found: list[RosterEntry] = []
    cursor, scanned = after, 0
    while len(found) < limit and scanned < MAX_SCAN:
        batch = visible_athletes(store, key, after=cursor, limit=min(200, MAX_SCAN - scanned))
        if not batch:
            return RosterPage(athletes=found, next_after=None)
        for athlete in batch:
            scanned += 1
            cursor = athlete
            entry = roster_entry(store, athlete, now)
            if entry is not None and where.accepts(entry):
                found.append(entry)
                if len(found) == limit:
                    break
    more = bool(visible_athletes(store, key, after=cursor, limit=1))
    return RosterPage(athletes=found, next_after=cursor if more else None)


def roster_entry(store: Any, athlete_id: str, now: dt.datetime) -> RosterEntry | None:
    from engine.advice import UnknownAthlete, advice_in_force
    from engine.pipeline import load_state
    from engine.views import athlete_view

    if store.stream_version(athlete_id) == 0:
        return None
    state, checkpoint = load_state(store, athlete_id)
    view = athlete_view(state, now) if checkpoint else None
    try:
        advice = advice_in_force(store, athlete_id, now)
        flags = [item.topic for item in advice.items if item.kind == "flag"]
    except (UnknownAthlete, ValueError):
        flags = []
    return RosterEntry(
        athlete_id=athlete_id, phase=None if view is None else view.phase.phase, open_flags=flags,
        days_since_last_log=None if view is None else view.adherence.days_since_last_log,
        version=0 if view is None else view.version)
