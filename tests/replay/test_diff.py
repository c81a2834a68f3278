"""The disagreement table: recommendations of two policies aligned by (athlete, decision time, topic)."""

from __future__ import annotations

import json

from engine.replay import PolicySpec, replay
from engine.scenarios import History

BASELINE = "engine.policies.baseline:BaselinePolicy"


def test_disagreements_are_aligned_by_decision_time_and_topic(tmp_path, log_of, six_events, test_policies):
    """Hare's cap changes at v2, v4, v6, Tortoise's at v3, v6: four disagreements, none at v1."""
    h = six_events
    result = replay(log_of(h), [f"{test_policies}:Tortoise", f"{test_policies}:Hare"], tmp_path / "out",
                    horizon=h.now, report=False)
    rows = result.diff().to_pylist()
    at = {e.version: e.recorded_at for e in h.envelopes}
    got = [(r["decision_time"], r["topic"], r["emitted_by"],
            None if r["tortoise__target"] is None else json.loads(r["tortoise__target"]),
            None if r["hare__target"] is None else json.loads(r["hare__target"])) for r in rows]
    assert got == [
        (at[2], "cap", "hare", None, {"km": 1}),
        (at[3], "cap", "tortoise", {"km": 1}, None),
        (at[4], "cap", "hare", None, {"km": 2}),
        (at[6], "cap", "tortoise,hare", {"km": 2}, {"km": 3}),
    ]
    assert {r["athlete_id"] for r in rows} == {"ath-1"}


def test_a_policy_compared_with_itself_has_no_disagreement(tmp_path, log_of):
    """Baseline against a second copy of baseline: an empty disagreement table."""
    result = replay(log_of(strength_history("ath-1")), [BASELINE, f"copy={BASELINE}"], tmp_path / "out", report=False)
    assert result.diff().num_rows == 0
    assert result.recommendations("baseline").num_rows == result.recommendations("copy").num_rows > 0


def strength_history(athlete_id: str) -> History:
    h = History(athlete_id)
    for day in range(0, 36):
        h.day(day).pain(1, "rest")
        if day % 2 == 0:
            h.lift("squat", 40 + day, 15 if day < 20 else 12, 3, rpe=8)
    return h


def test_bigger_load_steps_disagree_only_on_the_strength_plan(tmp_path, log_of):
    """Baseline vs baseline with strength.load_step 0.2: every difference is on the strength plan,
    and where both progressed, the bolder one's loads are higher."""
    bold = PolicySpec(BASELINE, overrides=(("strength.load_step", 0.2),), label="bold")
    histories = [strength_history("ath-a"), strength_history("ath-b")]
    result = replay(log_of(*histories), [BASELINE, bold], tmp_path / "out", report=False)
    rows = result.diff().to_pylist()
    assert rows and {r["athlete_id"] for r in rows} == {"ath-a", "ath-b"}
    assert {r["topic"] for r in rows} == {"strength"}

    def loads(target: str | None) -> dict:
        return {k: v for k, v in json.loads(target or "{}").items() if k.endswith("_kg")}

    both = [(loads(r["baseline__target"]), loads(r["bold__target"])) for r in rows
            if r["baseline__rule_id"] == r["bold__rule_id"] == "strength.hsr_progress"]
    assert both and all(sum(b.values()) > sum(a.values()) for a, b in both if a.keys() == b.keys())
