"""Which notifiers run and which kinds each gets: configuration from TOML and the environment."""

from __future__ import annotations

import pytest

from workers.notify_config import NotifyConfigError, load


def test_by_default_only_the_log_runs_and_gets_every_kind():
    """No webhook URL and no Redis: the structured log alone, for every kind."""
    notifiers, routing = load({})
    assert list(notifiers) == ["log"] and routing.wants("log", "flag")


def test_the_environment_turns_on_the_webhook_and_the_stream_with_their_kinds():
    """A webhook URL with a secret and a Redis URL start both channels; kinds route per channel."""
    notifiers, routing = load({"STRIDELINE_WEBHOOK_URL": "http://127.0.0.1:9/hook",
                               "STRIDELINE_WEBHOOK_SECRET": "s", "STRIDELINE_REDIS_URL": "redis://127.0.0.1:6379/0",
                               "STRIDELINE_WEBHOOK_KINDS": "advance_phase,flag", "STRIDELINE_LOG_KINDS": ""})
    assert sorted(notifiers) == ["redis_stream", "webhook"]
    assert routing.wants("webhook", "flag") and not routing.wants("webhook", "hold")
    assert routing.wants("redis_stream", "hold")


def test_a_toml_file_configures_channels_and_the_environment_overrides_it(tmp_path):
    """[webhook] and [redis_stream] sections; STRIDELINE_WEBHOOK_KINDS wins over the file."""
    path = tmp_path / "notify.toml"
    path.write_text('[webhook]\nurl = "https://coach.example/hook"\nsecret_env = "HOOK_SECRET"\nkinds = ["flag"]\n'
                    '[redis_stream]\nurl = "redis://127.0.0.1:6379/3"\nstream = "apps:recs"\nmaxlen = 500\n')
    notifiers, routing = load({"STRIDELINE_NOTIFY_CONFIG": str(path), "HOOK_SECRET": "x" * 32,
                               "STRIDELINE_WEBHOOK_KINDS": "deload"})
    assert notifiers["webhook"].url == "https://coach.example/hook"
    assert (notifiers["redis_stream"].stream, notifiers["redis_stream"].maxlen) == ("apps:recs", 500)
    assert routing.webhook == ("deload",)


@pytest.mark.parametrize("env, message", [
    ({"STRIDELINE_WEBHOOK_URL": "http://x/hook"}, "secret"),
    ({"STRIDELINE_LOG_KINDS": "progress,cheer"}, "unknown kinds"),
    ({"STRIDELINE_WEBHOOK_URL": "ftp://x/hook", "STRIDELINE_WEBHOOK_SECRET": "s"}, "http"),
])
def test_invalid_settings_are_refused_with_the_setting_named(env, message):
    """A webhook without a secret, an unknown kind, a non-HTTP URL: a clear error, not a silent default."""
    with pytest.raises(NotifyConfigError, match=message):
        load(env)


def test_a_plain_http_webhook_off_this_host_is_refused():
    """Given STRIDELINE_WEBHOOK_URL=http://coach.example/..., loading the notifiers fails naming https."""
    with pytest.raises(NotifyConfigError, match="https://"):
        load({"STRIDELINE_WEBHOOK_URL": "http://coach.example/hooks", "STRIDELINE_WEBHOOK_SECRET": "x" * 40})


def test_a_short_webhook_secret_is_refused():
    """Given a 6-byte signing secret for a remote https receiver, loading the notifiers fails."""
    with pytest.raises(NotifyConfigError, match="32"):
        load({"STRIDELINE_WEBHOOK_URL": "https://coach.example/hooks", "STRIDELINE_WEBHOOK_SECRET": "s3cret"})


def test_an_explicit_allow_insecure_or_a_loopback_receiver_is_accepted():
    """Given STRIDELINE_WEBHOOK_ALLOW_INSECURE=1, or a receiver on 127.0.0.1, http and short secrets load."""
    remote, _ = load({"STRIDELINE_WEBHOOK_URL": "http://coach.example/hooks", "STRIDELINE_WEBHOOK_SECRET": "s",
                      "STRIDELINE_WEBHOOK_ALLOW_INSECURE": "1"})
    local, _ = load({"STRIDELINE_WEBHOOK_URL": "http://127.0.0.1:9/hooks", "STRIDELINE_WEBHOOK_SECRET": "s"})
    assert "webhook" in remote and "webhook" in local
