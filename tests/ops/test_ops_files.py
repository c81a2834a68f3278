"""The shipped ops/ files: alert rules and Prometheus config pass promtool, the rules' unit tests
pass, every alert has a runbook section, the dashboard is well-formed Grafana JSON, and the compose
example wires the whole stack together."""

from __future__ import annotations

import re

import yaml

from ops_support import (
    ALERT_TESTS,
    COMPOSE,
    OPS,
    PROMETHEUS,
    RUNBOOK,
    alert_rules,
    dashboard,
    dashboard_panels,
    promql_metric_names,
    run_promtool,
)


def test_alert_rules_pass_promtool_check():
    """`promtool check rules ops/alerts.yml` accepts every recording and alerting rule."""
    result = run_promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_passes_promtool_check():
    """`promtool check config ops/prometheus.yml` accepts the scrape config and its rule file."""
    result = run_promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rule_unit_tests_pass():
    """`promtool test rules ops/alerts.test.yml`: the alerts fire (and stay quiet) as specified."""
    result = run_promtool("test", "rules", ALERT_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_severity_summary_and_a_runbook_section():
    """Each alert carries a severity, a summary, a description and a runbook anchor that exists."""
    anchors = {re.sub(r"[^a-z0-9_-]", "", h.strip().lower().replace(" ", "-"))
               for h in re.findall(r"^## (.+)$", RUNBOOK.read_text(), flags=re.M)}
    alerts = [r for r in alert_rules() if "alert" in r]
    assert len(alerts) >= 10
    for rule in alerts:
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        url = rule["annotations"]["runbook_url"]
        assert url.startswith("ops/runbook.md#"), rule["alert"]
        assert url.split("#", 1)[1] == rule["alert"].lower() and url.split("#", 1)[1] in anchors, rule["alert"]


def test_the_alerts_cover_the_issue():
    """Adherence falling, projection lag, dead letters, no events ingested, the sweeper healing a lot."""
    names = {r["alert"] for r in alert_rules() if "alert" in r}
    assert {"StridelineStrengthAdherenceFalling", "StridelineProjectionLagHigh", "StridelineDeadLetters",
            "StridelineNoEventsIngested", "StridelineSweeperHealingALot"} <= names


def test_dashboard_is_grafana_json_on_a_datasource_variable():
    """A uid, unique panel ids, every query on the ${datasource} variable, no overlapping panels."""
    dash = dashboard()
    assert dash["uid"] and dash["title"]
    assert [v["name"] for v in dash["templating"]["list"] if v["type"] == "datasource"] == ["datasource"]
    panels = dashboard_panels()
    assert len({p["id"] for p in panels}) == len(panels)
    cells = set()
    for panel in panels:
        g = panel["gridPos"]
        area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & area, panel["title"]
        cells |= area
        assert g["x"] + g["w"] <= 24
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"
            assert target["expr"].strip()


def test_dashboard_shows_adherence_phases_dropoffs_lag_and_throughput():
    """The panels the issue asks for, by the metrics they query."""
    used = {n for p in dashboard_panels() for t in p.get("targets", []) for n in promql_metric_names(t["expr"])}
    assert {"strideline_athletes", "strideline_strength_target_ratio", "strideline_heavy_session_ratio",
            "strideline_dropoff_flags_active", "strideline_days_since_last_log_bucket",
            "strideline_projection_lag_seconds_bucket", "strideline_events_ingested_total",
            "strideline_events_projected_total", "dramatiq_messages_total"} <= used


def test_compose_runs_api_workers_redis_postgres_prometheus_and_grafana():
    """Every service is there, mounted files exist, Prometheus scrapes the services compose names."""
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"api", "worker", "redis", "postgres", "prometheus", "grafana"} <= set(services)
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (OPS / source).exists(), source
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port  # published on loopback only
    worker = services["worker"]
    assert worker["environment"]["PROMETHEUS_MULTIPROC_DIR"] in worker["tmpfs"]
    assert "--metrics-port" in worker["command"]
    config = yaml.safe_load(PROMETHEUS.read_text())
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert {"api:8000", "worker:9191"} <= targets
    assert (OPS / compose["x-strideline"]["build"]["dockerfile"].removeprefix("ops/")).exists()


def test_promql_names_leave_out_functions_labels_and_durations():
    """The name extractor the checks above rely on, on the shapes the rules use."""
    expr = ('histogram_quantile(0.95, sum by (le) (rate(strideline_projection_lag_seconds_bucket'
            '{job="a b", le!="+Inf"}[10m]))) > 1e3 and on() (sum(up offset 7d) or vector(0)) == 0 '
            'unless strideline:silent_7d:ratio')
    assert promql_metric_names(expr) == {"strideline_projection_lag_seconds_bucket", "up",
                                         "strideline:silent_7d:ratio"}
