"""Loading a policy by name (``module:attr``) with a TOML or JSON config: overrides change behaviour,
mistakes fail with a PolicyLoadError that names the policy and what was wrong."""

from __future__ import annotations

import json
import textwrap

import pytest
from policy_support import RUN_DAY, at, in_force, rule

from engine.policies.base import PolicyLoadError, load_policy
from engine.policies.baseline import BaselineConfig, BaselinePolicy
from engine.scenarios import History

SPEC = "engine.policies.baseline:BaselinePolicy"


def _toml(tmp_path, text: str):
    path = tmp_path / "policy.toml"
    path.write_text(textwrap.dedent(text))
    return path


LADDER_DONE = RUN_DAY + 49  # the Monday after the compliant walk-run ladder


def _two_weeks_of_ten_km(journey):
    j = journey(weekly_km=40.0).to_return_to_run().walk_run()
    for w in range(2):
        for d in (1, 3, 5, 6):
            with j.h.day(LADDER_DONE + 7 * w + d).batch():
                j.h.pain(0, "rest").run(2.5, rpe=3)
    return j


def _weekly_km(policy, j, day: int) -> float:
    return in_force(j.h.replay(policy, horizon=at(day))[1])["run"].target["weekly_km"]


def test_default_load_is_the_baseline():
    """Without a config the loaded policy is the baseline with its defaults."""
    policy = load_policy(SPEC)
    assert (policy.name, policy.version) == ("baseline", "2.0.0")
    assert policy.config == BaselineConfig()


def test_weekly_step_override_changes_the_volume_target(tmp_path, journey):
    """weekly_step = 0.2 turns 10 km into a 12 km target instead of 11 km."""
    policy = load_policy(SPEC, _toml(tmp_path, """
        [run]
        weekly_step = 0.2
    """))
    assert policy.config.run.weekly_step == 0.2
    assert policy.config.run.two_week_max_increase == 0.30  # the rest keeps its defaults
    j = _two_weeks_of_ten_km(journey)
    tuned = in_force(j.h.replay(policy, horizon=at(LADDER_DONE + 14))[1])["run"]
    assert (tuned.target["weekly_km"], _weekly_km(BaselinePolicy(), j, LADDER_DONE + 14)) == (12.0, 11.0)
    assert tuned.rationale["weekly_step"] == 0.2


def test_phase_milestone_override_changes_the_advance_day(tmp_path):
    """[phases] settle_days = 3 advances a settled athlete on day 3 instead of day 7."""
    policy = load_policy(SPEC, _toml(tmp_path, """
        [phases]
        settle_days = 3
        settle_min_reported_days = 3
    """))
    h = History()
    for d in range(5):
        h.day(d).pain(1, "rest")
    [advance] = rule(h.recommendations(policy), "phase.settle_exit")
    assert advance.decision_time == at(3)


def test_intense_rpe_override_changes_dropoff3(tmp_path, journey):
    """[run] intense_rpe = 9: an RPE-8 easy run is no longer pace-led."""
    policy = load_policy(SPEC, _toml(tmp_path, """
        [run]
        intense_rpe = 9.0
    """))
    j = journey().to_return_to_run()
    j.h.day(RUN_DAY + 2).run(5, rpe=8)
    assert rule(j.h.recommendations(BaselinePolicy()), "dropoff.3_intensity_too_early")
    assert rule(j.h.recommendations(policy), "dropoff.3_intensity_too_early") == []


def test_json_config_is_accepted(tmp_path):
    """A .json config works like TOML."""
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"pain": {"green_max": 2}, "bsi_hold_days": 5}))
    policy = load_policy(SPEC, path)
    assert (policy.config.pain.green_max, policy.config.bsi_hold_days) == (2, 5)


def test_pain_threshold_override_changes_the_light(tmp_path):
    """[pain] green_max = 2 makes a 3/10 amber (hold)."""
    policy = load_policy(SPEC, _toml(tmp_path, """
        [pain]
        green_max = 2
    """))
    h = History().day(0).pain(3, "rest")
    assert [r.rule_id for r in h.recommendations(policy)] == ["pain.traffic_light_amber"]
    assert h.recommendations(BaselinePolicy()) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("weekly_step = 0.2\n", "unknown field `weekly_step`"),
    ("[run]\nweekly_stp = 0.2\n", "unknown field `weekly_stp` - at `$.run`"),
    ("[phases]\nsettle_dayz = 3\n", "unknown field `settle_dayz` - at `$.phases`"),
    ("[pain]\nred_min = 7\n", "unknown field `red_min` - at `$.pain`"),
    ("[run]\nweekly_step = \"fast\"\n", "Expected `float`, got `str` - at `$.run.weekly_step`"),
    ("[run\nweekly_step = 0.2\n", "config"),
])
def test_bad_config_names_the_policy_and_the_problem(tmp_path, text, expected):
    """Unknown fields (at any depth), wrong types and broken TOML are refused, naming the policy."""
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(SPEC, path)
    message = str(caught.value)
    assert message.startswith(f"policy {SPEC!r}: config {path}")
    assert expected in message


def test_missing_config_file_names_the_policy(tmp_path):
    """A config path that does not exist is a PolicyLoadError, not an OSError."""
    with pytest.raises(PolicyLoadError, match=r"policy 'engine.policies.baseline:BaselinePolicy': config .*nope.toml"):
        load_policy(SPEC, tmp_path / "nope.toml")


@pytest.mark.parametrize(("spec", "expected"), [
    ("engine.policies.nope:BaselinePolicy", "cannot import (No module named 'engine.policies.nope')"),
    ("engine.policies.baseline:Nope", "cannot import (module 'engine.policies.baseline' has no attribute 'Nope')"),
    ("engine.policies.baseline", "expected 'module:attr'"),
    (":BaselinePolicy", "expected 'module:attr'"),
    ("engine.policies.baseline:BaselineConfig", "object has no 'name'"),
])
def test_bad_spec_names_the_policy(spec, expected):
    """Bad module paths and attributes fail with a PolicyLoadError naming the spec."""
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(spec)
    assert str(caught.value).startswith(f"policy {spec!r}: ")
    assert expected in str(caught.value)


POLICY_FILE = '''
"""A cautious variant of the baseline: a new policy is a file, not a fork."""
import msgspec

from engine.policies.baseline import BaselineConfig, BaselinePolicy, RunConfig


class CautiousPolicy(BaselinePolicy):
    name = "cautious"
    version = "0.1.0"

    def __init__(self, config=None):
        super().__init__(config or BaselineConfig(run=RunConfig(weekly_step=0.05)))


def make(config=None):
    """A factory works as well as a class."""
    return CautiousPolicy(config)


class NotAPolicy:
    name = "broken"
'''


@pytest.fixture
def policy_module(tmp_path, monkeypatch):
    (tmp_path / "my_policies.py").write_text(POLICY_FILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "my_policies"


def test_a_new_policy_is_a_file(policy_module, journey):
    """A policy in its own module loads by module:attr; its name and version go on every recommendation."""
    policy = load_policy(f"{policy_module}:CautiousPolicy")
    j = _two_weeks_of_ten_km(journey)
    recs = j.h.recommendations(policy, horizon=at(LADDER_DONE + 14))
    assert {(r.policy_name, r.policy_version) for r in recs} == {("cautious", "0.1.0")}
    assert _weekly_km(policy, j, LADDER_DONE + 14) == 10.5


def test_a_subclass_inherits_the_config_type(policy_module, tmp_path):
    """A subclass's config file is decoded into the inherited BaselineConfig; factories load too."""
    policy = load_policy(f"{policy_module}:CautiousPolicy", _toml(tmp_path, "[run]\nweekly_step = 0.15\n"))
    assert policy.config.run.weekly_step == 0.15
    assert load_policy(f"{policy_module}:make").name == "cautious"


def test_an_object_without_decide_is_refused(policy_module):
    """The loaded object must have name, version and decide."""
    with pytest.raises(PolicyLoadError, match="object has no 'version'"):
        load_policy(f"{policy_module}:NotAPolicy")
