"""Calendar helpers: the athlete's local day and week, as integers (date ordinals)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(when: dt.datetime, time_zone: str) -> int:
    """The athlete's local calendar day of an instant, as a date ordinal."""
    return when.astimezone(zone(time_zone)).date().toordinal()


def week_of(day: int) -> int:
    """Monday-based week number of a day ordinal (ordinal 1, 0001-01-01, is a Monday)."""
    return (day - 1) // 7


def week_start(week: int) -> int:
    return week * 7 + 1


def day_start(day: int, time_zone: str) -> dt.datetime:
    """The instant the athlete's local day begins (local midnight), in UTC."""
    local = dt.datetime.combine(dt.date.fromordinal(day), dt.time(), tzinfo=zone(time_zone))
    return local.astimezone(dt.timezone.utc)


def midnights_between(after: dt.datetime, until: dt.datetime, time_zone: str) -> list[dt.datetime]:
    """Local midnights m with after < m <= until, in order (the day-boundary decision points)."""
    if until <= after:
        return []
    first = local_day(after, time_zone) + 1
    last = local_day(until, time_zone)
    return [day_start(d, time_zone) for d in range(first, last + 1)]
