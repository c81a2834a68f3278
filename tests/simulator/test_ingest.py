"""The simulated stream is what a real app would send: the ingest edge accepts all of it."""

from __future__ import annotations

from engine.clock import ManualClock
from engine.ingest import Ingestor
from engine.simulator import simulate_cohort
from events.vocabulary import event_type


def test_ingest_accepts_every_submission_at_its_send_time(tmp_path):
    """With the clock at send_at, the Ingestor stores every batch (stream rules and corrections included)."""
    from engine.store import SQLiteEventStore

    submissions = list(simulate_cohort(athletes=12, weeks=10, seed=7))
    tags = {event_type(e.data) for s in submissions for e in s.events}
    assert {"entry.amended", "entry.retracted", "clearance.recorded"} <= tags
    clock = ManualClock(submissions[0].send_at)
    store = SQLiteEventStore(tmp_path / "events.sqlite3", clock=clock, synchronous="OFF")
    try:
        ingest = Ingestor(store, clock=clock)
        for submission in submissions:
            clock.set(submission.send_at)
            ingest.append(submission.athlete_id, submission.events)
        assert store.last_position() == sum(len(s.events) for s in submissions)
        ingest.append(submissions[-1].athlete_id, submissions[-1].events)  # a retry stores nothing new
        assert store.last_position() == sum(len(s.events) for s in submissions)
    finally:
        store.close()
