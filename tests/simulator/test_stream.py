"""The stream of submissions: ordered, valid, in waking hours, app-sized batches, streamed lazily."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import tracemalloc
from zoneinfo import ZoneInfo

from engine.simulator import cohort_size_hint, simulate_cohort
from events.codec import validate
from events.vocabulary import AthleteEnrolled

UTC = dt.timezone.utc


def test_send_times_never_decrease_across_athletes(cohort):
    """Submissions come in non-decreasing send_at, all timezone-aware UTC."""
    sends = [s.send_at for s in cohort]
    assert all(t.utcoffset() == dt.timedelta(0) for t in sends)
    assert sends == sorted(sends)


def test_every_event_passes_validation(cohort):
    """events.codec.validate accepts every batch the simulator produces."""
    for submission in cohort:
        assert validate(submission.events) == submission.events


def test_each_athlete_starts_with_enrolment(logs):
    """Athletes are ath-0001 ... ath-0050; each one's first event is athlete.enrolled, and it appears once."""
    assert sorted(logs) == [f"ath-{i:04d}" for i in range(1, 51)]
    for log in logs.values():
        assert isinstance(log.events[0].data, AthleteEnrolled)
        assert sum(isinstance(e.data, AthleteEnrolled) for e in log.events) == 1


def test_a_batch_is_sent_after_everything_in_it_occurred(cohort):
    """send_at >= occurred_at for every event of a batch."""
    assert all(e.occurred_at <= s.send_at for s in cohort for e in s.events)


def test_events_occur_in_local_waking_hours(logs):
    """Each athlete's events occur between 05:00 and midnight in their own time zone."""
    for log in logs.values():
        hours = {e.occurred_at.astimezone(log.zone).hour for e in log.events}
        assert min(hours) >= 5, log.events[0]


def test_time_zones_are_real_and_varied(logs):
    """Athletes live in several real IANA zones."""
    zones = {log.events[0].data.time_zone for log in logs.values()}
    assert len(zones) >= 5
    for name in zones:
        ZoneInfo(name)


def test_batches_are_app_sized(cohort):
    """A batch is what an app sends at once: usually 1-3 events."""
    sizes = [len(s.events) for s in cohort]
    assert statistics.median(sizes) <= 3
    assert max(sizes) <= 20


def test_size_hint_is_close(cohort):
    """cohort_size_hint is within 25% of the real number of events."""
    actual = sum(len(s.events) for s in cohort)
    assert 0.75 * actual <= cohort_size_hint(50, 16) <= 1.25 * actual


def test_cohort_streams_in_bounded_memory():
    """The first submissions of a 500-athlete, 200-week cohort (~3M events) arrive in a few MB."""
    tracemalloc.start()
    try:
        taken = list(itertools.islice(simulate_cohort(athletes=500, weeks=200, seed=2), 3000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(taken) == 3000
    assert peak < 25 * 1024 * 1024
