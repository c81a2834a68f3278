"""A policy that fails to load or raises is named, with the athlete and the event."""

from __future__ import annotations

import pytest

from engine.policies.base import PolicyLoadError
from engine.replay import PolicyEvaluationError, PolicySpec, replay
from engine.store.sqlite import SQLiteEventStore

BASELINE = "engine.policies.baseline:BaselinePolicy"


def test_a_raising_policy_names_policy_athlete_and_event(tmp_path, log_of, six_events, test_policies):
    """The error names the policy label, the athlete, the event's position and version, and the cause."""
    with pytest.raises(PolicyEvaluationError) as caught:
        replay(log_of(six_events), [BASELINE, f"picky={test_policies}:Fussy"], tmp_path / "out", report=False)
    error = caught.value
    assert (error.policy, error.athlete_id, error.position, error.version) == ("picky", "ath-1", 4, 4)
    message = str(error)
    for part in ("'picky'", "'ath-1'", "position 4", "version 4", "pain.reported", "after it",
                 "cannot decide on version 4"):
        assert part in message


def test_a_policy_raising_in_a_worker_process_is_reported_the_same_way(live_cohort, tmp_path, test_policies):
    """In a worker process too, the error names the policy, an athlete and that athlete's event."""
    path, _ = live_cohort
    with pytest.raises(PolicyEvaluationError) as caught:
        replay(path, [f"picky={test_policies}:Fussy"], tmp_path / "out", workers=2, report=False)
    error = caught.value  # the batch holding version 4 may end later: the error names its last event
    assert error.policy == "picky" and error.version >= 4 and f"cannot decide on version {error.version}" in str(error)
    store = SQLiteEventStore(path)
    event = store.read_stream(error.athlete_id, error.version, 1)[0]
    store.close()
    assert event.position == error.position and f"position {event.position}" in str(error)


def test_a_policy_that_cannot_be_loaded_is_named(tmp_path):
    """A bad module, or a config override naming no field, is refused before anything runs."""
    with pytest.raises(PolicyLoadError, match="no_such_module"):
        replay(tmp_path / "missing.sqlite3", ["no_such_module:Policy"], tmp_path / "out")
    with pytest.raises(PolicyLoadError, match="run.weekly_stepp"):
        PolicySpec(BASELINE, overrides=(("run.weekly_stepp", 0.2),)).load()


def test_a_failed_replay_leaves_no_part_files(tmp_path, log_of, six_events, test_policies):
    """The workers' part files are removed when a policy fails."""
    with pytest.raises(PolicyEvaluationError):
        replay(log_of(six_events), [f"{test_policies}:Fussy"], tmp_path / "out", report=False)
    assert not (tmp_path / "out" / "_parts").exists()
