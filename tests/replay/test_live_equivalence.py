"""Replay uses the live decision points: a replay of a live log reproduces its recommendations."""

from __future__ import annotations

import datetime as dt
import json

from engine import pipeline
from engine.replay import replay
from engine.store.sqlite import SQLiteEventStore
from events.vocabulary import RecommendationIssued

BASELINE = "engine.policies.baseline:BaselinePolicy"


def live_rows(path) -> list[tuple]:
    store = SQLiteEventStore(path)
    rows = []
    for athlete_id in pipeline.athletes(store):
        for rec in pipeline.recommendations(store, athlete_id):
            if not isinstance(rec, RecommendationIssued):
                continue  # withdrawals: counted per athlete (see the test below)
            rows.append((rec.athlete_id, str(rec.recommendation_id), rec.decision_time, rec.trigger_position,
                         rec.kind, rec.topic, rec.rule_id, rec.policy_name, rec.policy_version,
                         dict(rec.target), dict(rec.rationale), rec.explanation))
    store.close()
    return rows


def replayed_rows(table) -> list[tuple]:
    return [(r["athlete_id"], r["recommendation_id"], r["decision_time"], r["trigger_position"], r["kind"],
             r["topic"], r["rule_id"], r["policy_name"], r["policy_version"], json.loads(r["target"]),
             json.loads(r["rationale"]), r["explanation"]) for r in table.to_pylist()]


def test_replay_of_a_live_log_equals_its_live_recommendations(live_cohort, tmp_path):
    """Same horizon, same policy: every live recommendation, same ids and content, in the same order."""
    path, end = live_cohort
    result = replay(path, [BASELINE], tmp_path / "out", horizon=end, report=False)
    live = live_rows(path)
    assert len(live) > 30  # a small cohort, but enough to compare
    assert replayed_rows(result.recommendations("baseline")) == live


def test_default_horizon_is_the_last_recorded_at_of_the_log(live_cohort, tmp_path):
    """Without a horizon, the replay is as of the log's last recorded_at (any stream)."""
    path, _ = live_cohort
    store = SQLiteEventStore(path)
    last = max(e.recorded_at for e in store.iter_all())
    store.close()
    result = replay(path, [BASELINE], tmp_path / "out", report=False)
    assert result.horizon == last
    assert replayed_rows(result.recommendations("baseline")) == [r for r in live_rows(path) if r[2] <= last]


def test_an_earlier_horizon_sees_no_later_event(live_cohort, tmp_path):
    """No look-ahead: as of an earlier time, nothing recorded after it is read or decided on."""
    path, end = live_cohort
    horizon = end - dt.timedelta(days=14)
    result = replay(path, [BASELINE], tmp_path / "out", horizon=horizon, report=False)
    replayed = replayed_rows(result.recommendations("baseline"))
    assert replayed == [r for r in live_rows(path) if r[2] <= horizon]
    assert 0 < len(replayed) < len(live_rows(path))


def test_a_replay_withdraws_what_live_processing_withdrew(live_cohort, tmp_path):
    """Same horizon: each athlete's count of withdrawn advice equals the live stream's."""
    path, end = live_cohort
    result = replay(path, [BASELINE], tmp_path / "out", horizon=end, report=False)
    store = SQLiteEventStore(path)
    live = {a: sum(1 for r in pipeline.recommendations(store, a) if not isinstance(r, RecommendationIssued))
            for a in pipeline.athletes(store)}
    store.close()
    assert {r["athlete_id"]: r["withdrawals"] for r in result.athlete_metrics.to_pylist()} == live
