"""The SQLite append path remembers stream heads between appends; a write by anyone else (another
store object or process on the same file) must never let a stale head through."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.clock import ManualClock
from engine.store import VersionConflict
from engine.store.sqlite import SQLiteEventStore
from events import Context, NewEvent, PainReported

T0 = dt.datetime(2026, 3, 2, 7, 30, tzinfo=dt.timezone.utc)


def pain(score: int = 1) -> NewEvent:
    return NewEvent(data=PainReported(score=score, context=Context.REST), occurred_at=T0)


@pytest.fixture(params=[False, True], ids=["plain", "group_commit"])
def two_writers(request, tmp_path):
    """Two store objects on one file: each has its own cache, as two processes would."""
    path = tmp_path / "events.sqlite3"
    first = SQLiteEventStore(path, clock=ManualClock(T0), group_commit=request.param)
    second = SQLiteEventStore(path, clock=ManualClock(T0 + dt.timedelta(hours=1)))
    yield first, second
    first.close()
    second.close()


def test_a_head_moved_by_another_writer_is_read_again(two_writers):
    """Given a stream the first writer appended to (its head cached), when another writer appends to
    it, then the first writer's next append continues from the new head: versions 1, 2, 3."""
    first, second = two_writers
    first.append("ath-1", [pain(1)])
    second.append("ath-1", [pain(2)])
    result = first.append("ath-1", [pain(3)], expected_version=2)
    assert [e.version for e in first.read_stream("ath-1")] == [1, 2, 3]
    assert result.last_version == 3 and result.last_position == 3


def test_an_expected_version_is_checked_against_the_log_not_the_cache(two_writers):
    """Given the first writer's cached head at version 1 and another writer's append since, an
    append expecting version 1 is refused: nothing is written."""
    first, second = two_writers
    first.append("ath-1", [pain(1)])
    second.append("ath-1", [pain(2)])
    with pytest.raises(VersionConflict) as refused:
        first.append("ath-1", [pain(3)], expected_version=1)
    assert refused.value.actual == 2
    assert first.stream_version("ath-1") == 2


def test_a_refused_append_leaves_the_remembered_head_unchanged(tmp_path):
    """A version conflict rolls back: the next append still lands right after the stored head,
    and its recorded_at still follows the stream's previous batch."""
    store = SQLiteEventStore(tmp_path / "e.sqlite3", clock=ManualClock(T0))
    store.append("ath-1", [pain(1)])
    with pytest.raises(VersionConflict):
        store.append("ath-1", [pain(2)], expected_version=5)
    store.append("ath-1", [pain(3)], expected_version=1)
    stored = store.read_stream("ath-1")
    assert [(e.version, e.position, e.data.score) for e in stored] == [(1, 1, 1), (2, 2, 3)]
    assert stored[1].recorded_at > stored[0].recorded_at
    store.close()
