"""The shipped ops/ files: alert rules and Prometheus config pass promtool, the rules' unit tests
pass, every alert has a runbook section, the dashboard is well-formed Grafana JSON, and the compose
example wires the whole stack together."""

from __future__ import annotations

import re
import subprocess

import yaml

from ops_support import (
    ALERT_TESTS,
    ALERTMANAGER,
    WEEKLY_ALERT_TESTS,
    COMPOSE,
    OPS,
    PROMETHEUS,
    RUNBOOK,
    alert_rules,
    amtool,
    dashboard,
    dashboard_exprs,
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
    """`promtool test rules ops/alerts.test.yml ops/alerts.weekly.test.yml`: the alerts fire (and
    stay quiet) as specified."""
    result = run_promtool("test", "rules", ALERT_TESTS.name, WEEKLY_ALERT_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_fired_by_a_unit_test():
    """Given the promtool unit tests, when we list the alerts they expect to fire, then every alert
    of ops/alerts.yml is among them (a rule nobody saw fire is a rule that may never fire)."""
    fired = {case["alertname"] for path in (ALERT_TESTS, WEEKLY_ALERT_TESTS)
             for group in yaml.safe_load(path.read_text())["tests"]
             for case in group.get("alert_rule_test", []) if case.get("exp_alerts")}
    assert {r["alert"] for r in alert_rules() if "alert" in r} <= fired


def test_alertmanager_example_passes_amtool_check_config():
    """`amtool check-config ops/alertmanager.yml` accepts the routes, inhibitions and receivers,
    and Prometheus sends its alerts to an Alertmanager."""
    result = subprocess.run([amtool(), "check-config", str(ALERTMANAGER)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(PROMETHEUS.read_text())
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]


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
        assert url == "{{ $externalLabels.runbook_base }}#" + rule["alert"].lower(), rule["alert"]
        assert rule["alert"].lower() in anchors, rule["alert"]


def test_runbook_links_are_absolute_from_a_configurable_base():
    """Given ops/prometheus.yml, the external label `runbook_base` every runbook_url starts with is an
    absolute https URL ending in runbook.md, so any receiver can open the link."""
    base = yaml.safe_load(PROMETHEUS.read_text())["global"]["external_labels"]["runbook_base"]
    assert re.fullmatch(r"https://[^\s#]+/runbook\.md", base), base


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
    assert [v["name"] for v in dash["templating"]["list"] if v["type"] == "query"] == ["job", "instance"]
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


def test_every_dashboard_query_follows_the_job_and_instance_variables():
    """Each selector of a scraped metric is filtered by $job and $instance (recording rules, which
    carry no such labels, are left as they are)."""
    for expr in dashboard_exprs():
        for match in re.finditer(r"\b((?:strideline|dramatiq|process)_[a-z_]+|up)\b(\{[^}]*\})?(?!\s*\()", expr):
            assert match.group(2) and 'job=~"$job"' in match.group(2) and 'instance=~"$instance"' in match.group(2), expr


def test_dashboard_has_an_alert_list_and_an_api_row():
    """An alert-list panel of the Strideline alerts, and a row with API rate, errors and duration."""
    panels = dashboard_panels()
    assert any(p["type"] == "alertlist" and p["options"]["alertName"] == "Strideline" for p in panels)
    assert any(p["type"] == "row" and p["title"].startswith("API") for p in panels)
    used = {n for p in panels for t in p.get("targets", []) for n in promql_metric_names(t["expr"])}
    assert {"strideline_http_requests_total", "strideline_http_request_duration_seconds_bucket",
            "strideline_deliveries_total", "process_resident_memory_bytes"} <= used


def test_dashboard_shows_adherence_phases_dropoffs_lag_and_throughput():
    """The panels the issue asks for, by the metrics they query."""
    used = {n for p in dashboard_panels() for t in p.get("targets", []) for n in promql_metric_names(t["expr"])}
    assert {"strideline_athletes", "strideline_strength_target_ratio", "strideline_heavy_session_ratio",
            "strideline_dropoff_flags_active", "strideline_days_since_last_log_bucket",
            "strideline_projection_lag_seconds_bucket", "strideline_events_ingested_total",
            "strideline_events_projected_total", "dramatiq_messages_total"} <= used


def test_compose_runs_two_apis_two_workers_and_the_monitoring_stack():
    """Every service is there, mounted files exist, ports are published on loopback only,
    Prometheus scrapes exactly the compose services' metrics ports, and each long-running service
    has a healthcheck."""
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"api-1", "api-2", "worker-1", "worker-2", "redis", "postgres", "prometheus", "alertmanager",
            "grafana"} <= set(services)
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (OPS / source).exists(), source
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port  # published on loopback only
    for name in ("api-1", "api-2", "worker-1", "worker-2", "redis", "postgres"):
        assert services[name]["healthcheck"]["test"], name
    metrics_ports = {}
    for name in ("api-1", "api-2", "worker-1", "worker-2"):
        command = services[name]["command"]
        metrics_ports[name] = command[command.index("--metrics-port") + 1]
        assert metrics_ports[name] not in {p.rsplit(":", 1)[-1] for p in services[name].get("ports", [])}
    worker = services["worker-1"]
    assert any(t.split(":", 1)[0] == worker["environment"]["PROMETHEUS_MULTIPROC_DIR"] for t in worker["tmpfs"])
    assert worker["environment"]["STRIDELINE_WEBHOOK_URL"].startswith("${")
    config = yaml.safe_load(PROMETHEUS.read_text())
    targets = {t for job in config["scrape_configs"] if job["job_name"].startswith("strideline")
               for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {f"{name}:{port}" for name, port in metrics_ports.items()}
    assert (OPS / compose["x-strideline"]["build"]["dockerfile"].removeprefix("ops/")).exists()


def test_compose_takes_every_secret_from_the_environment():
    """No password, webhook secret or token is written in the compose file: each is a required
    ``${VAR:?...}`` substitution or a secret read from the environment."""
    text = COMPOSE.read_text()
    for line in text.splitlines():
        if re.search(r"(PASSWORD|SECRET|TOKEN)\w*:\s", line) and "environment:" not in line:
            assert "${" in line, line
    assert "strideline:strideline@" not in text


def test_promql_names_leave_out_functions_labels_and_durations():
    """The name extractor the checks above rely on, on the shapes the rules use."""
    expr = ('histogram_quantile(0.95, sum by (le) (rate(strideline_projection_lag_seconds_bucket'
            '{job="a b", le!="+Inf"}[10m]))) > 1e3 and on() (sum(up offset 7d) or vector(0)) == 0 '
            'unless strideline:silent_7d:ratio')
    assert promql_metric_names(expr) == {"strideline_projection_lag_seconds_bucket", "up",
                                         "strideline:silent_7d:ratio"}
