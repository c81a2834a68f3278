"""The deployment of ops/compose.yaml, started without Docker: `strideline db upgrade`, two API
processes and two worker processes with the compose file's commands and environment, on real
PostgreSQL and Redis, a webhook receiver, and Debian's Prometheus scraping them and evaluating
ops/alerts.yml. One app journey goes through both APIs; a refused webhook fires
StridelineDeadLetters in the live Prometheus and `strideline deliveries retry` sends it again."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import psycopg
import pytest
import redis

from deployment_support import (
    ANSI,
    Process,
    Prometheus,
    Receiver,
    Translation,
    base_env,
    compose_services,
    free_port,
    http,
    is_json_lines,
    run,
    wait_for,
)
from ops_support import prometheus_server

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

APIS, WORKERS = ("api-1", "api-2"), ("worker-1", "worker-2")


class Deployment:
    def __init__(self, tmp, store_url, redis_url):
        self.tmp, self.receiver = tmp, Receiver()
        self.services = compose_services()
        self.translation = Translation(store_url=store_url, redis_url=redis_url, webhook_url=self.receiver.url,
                                       tmp=tmp)
        self.env = {name: base_env() | self.translation.env(name, spec) for name, spec in self.services.items()
                    if spec.get("image") == "strideline:local"}
        self.processes: dict[str, Process] = {}
        self.api_urls: dict[str, str] = {}
        self.metrics_targets: dict[str, list[str]] = {"strideline-api": [], "strideline-workers": []}
        self.prometheus: Prometheus | None = None

    def start(self) -> None:
        migrate = run(self.services["migrate"]["command"], self.env["migrate"], self.tmp)
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        for name in APIS:
            port, metrics_port = free_port(), free_port()
            argv = Translation.command(self.services[name], {"--port": port, "--metrics-port": metrics_port})
            self.processes[name] = Process(name, argv, self.env[name], self.tmp)
            self.api_urls[name] = f"http://127.0.0.1:{port}"
            self.metrics_targets["strideline-api"].append(f"127.0.0.1:{metrics_port}")
        for name in WORKERS:
            metrics_port = free_port()
            argv = Translation.command(self.services[name], {"--metrics-port": metrics_port})
            self.processes[name] = Process(name, argv, self.env[name], self.tmp)
            self.metrics_targets["strideline-workers"].append(f"127.0.0.1:{metrics_port}")
        for name, url in self.api_urls.items():
            wait_for(f"{name} ready", lambda url=url: http("GET", f"{url}/ready", timeout=5)[0] == 200, 90)
        for target in self.metrics_targets["strideline-workers"]:
            wait_for(f"worker metrics {target}",
                     lambda t=target: http("GET", f"http://{t}/metrics", timeout=5)[0] == 200, 90)

    def create_key(self) -> str:
        done = run(["keys", "create", "--name", "journey", "--scope", "ingest", "--scope", "read"],
                   self.env["api-1"], self.tmp)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        if self.prometheus is not None:
            self.prometheus.stop()
        for process in self.processes.values():
            process.stop()
        self.receiver.close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    from ops_support import IN_CI

    store_base = os.environ.get("STRIDELINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("STRIDELINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        with psycopg.connect(store_base, autocommit=True, connect_timeout=3) as conn:
            schema = f"deploy_{uuid.uuid4().hex[:12]}"
            conn.execute(f'CREATE SCHEMA "{schema}"')
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).flushdb()
    except (psycopg.Error, redis.RedisError) as exc:
        message = f"PostgreSQL and Redis are needed for the deployment test: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    binary = prometheus_server()
    store_url = f"{store_base}{'&' if '?' in store_base else '?'}options=-csearch_path%3D{schema}"
    deployed = Deployment(tmp_path_factory.mktemp("deployment"), store_url, redis_url)
    try:
        deployed.start()
        deployed.key = deployed.create_key()
        (deployed.tmp / "prometheus").mkdir()
        deployed.prometheus = Prometheus(binary, deployed.tmp / "prometheus", deployed.metrics_targets)
        yield deployed
    finally:
        deployed.stop()
        redis.Redis.from_url(redis_url).flushdb()
        with psycopg.connect(store_base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _events(now: dt.datetime) -> list[dict]:
    day = dt.timedelta(days=1)
    return [
        {"occurred_at": (now - 3 * day).isoformat(), "data": {
            "type": "athlete.enrolled", "body_mass_kg": 68, "time_zone": "Europe/London",
            "pre_injury_weekly_km": 40, "pre_injury_longest_run_km": 16}},
        {"occurred_at": (now - 3 * day).isoformat(), "data": {
            "type": "injury.reported", "injury_type": "bone_stress", "bone_site": "navicular",
            "onset_date": (now - 6 * day).date().isoformat()}},
        {"occurred_at": (now - day).isoformat(), "data": {"type": "pain.reported", "score": 6, "context": "rest"}},
    ]


def test_an_app_journey_runs_through_both_api_processes(deployment):
    """Given the compose processes, when an app appends through api-1, then api-2 serves the view and
    long-polls the recommendations the workers issued, and the webhook receiver gets them signed."""
    api_1, api_2 = deployment.api_urls["api-1"], deployment.api_urls["api-2"]
    now = dt.datetime.now(dt.timezone.utc)
    status, body = http("POST", f"{api_1}/v1/athletes/ath-deploy-1/events", {"events": _events(now)},
                        deployment.key)
    assert status == 201, body
    page = wait_for("recommendations on api-2", lambda: http(
        "GET", f"{api_2}/v1/athletes/ath-deploy-1/recommendations?after=0&wait=10", key=deployment.key,
        timeout=20)[1]["recommendations"], 60)
    assert page
    status, view = http("GET", f"{api_2}/v1/athletes/ath-deploy-1/view", key=deployment.key)
    assert status == 200 and view["athlete_id"] == "ath-deploy-1"
    wait_for("webhook deliveries", lambda: deployment.receiver.received, 60)
    assert all(any("signature" in h.lower() for h in d["headers"]) for d in deployment.receiver.received)


def test_prometheus_scrapes_every_process_and_evaluates_every_rule(deployment):
    """A real Prometheus has both APIs and both workers up, finds request, ingest, delivery and
    process metrics in them, and has evaluated every rule of ops/alerts.yml without error."""
    prom = deployment.prometheus
    wait_for("all four targets up", lambda: len(prom.query('up{job=~"strideline-.*"} == 1')) == 4, 60)
    for expr in ('sum(strideline_http_requests_total{job="strideline-api",route="/v1/athletes/{athlete_id}/events"})',
                 'sum(strideline_events_ingested_total{job="strideline-api"})',
                 'sum(strideline_deliveries_total{job="strideline-workers",outcome="delivered"})',
                 'count(process_resident_memory_bytes{job="strideline-workers"})',
                 'count(process_resident_memory_bytes{job="strideline-api"})'):
        result = wait_for(expr, lambda expr=expr: [r for r in prom.query(expr) if float(r["value"][1]) > 0], 30)
        assert result, expr

    def evaluated():
        rules = [r for g in prom.api("rules")["groups"] for r in g["rules"]]
        return rules if rules and all(r["health"] == "ok" and r["lastEvaluation"][:4] != "0001"
                                      for r in rules) else None

    rules = wait_for("every rule evaluated", evaluated, 30)
    assert len([r for r in rules if r["type"] == "alerting"]) >= 15


def test_every_dashboard_query_runs_in_the_live_prometheus(deployment):
    """Each query of the Grafana dashboard (its variables set to "All") is valid PromQL for a real
    Prometheus scraping the deployment; seconds after start-up, the gauges and the request and
    delivery rates already return data (rates over longer windows and ratios follow)."""
    from ops_support import dashboard_exprs

    prom = deployment.prometheus
    wait_for("all four targets up", lambda: len(prom.query('up{job=~"strideline-.*"} == 1')) == 4, 60)
    with_data = 0
    exprs = dashboard_exprs()
    for expr in exprs:
        concrete = (expr.replace("$__rate_interval", "1m").replace('=~"$job"', '=~"strideline-.*"')
                    .replace('=~"$instance"', '=~".*"'))
        with_data += bool(prom.query(concrete))  # prom.query asserts the query succeeded
    assert with_data >= 10, f"{with_data} of {len(exprs)} dashboard queries returned data"


def test_a_refused_webhook_fires_the_dead_letter_alert_and_is_sent_again(deployment):
    """Given the receiver refusing (410), when a new athlete's advice is delivered, then the first
    dead letter fires StridelineDeadLetters in Prometheus (absolute runbook link), `deliveries list`
    shows it, and once the receiver accepts, `deliveries retry --all` delivers it."""
    deployment.receiver.status = 410
    before = len(deployment.receiver.received)
    status, body = http("POST", f"{deployment.api_urls['api-2']}/v1/athletes/ath-deploy-2/events",
                        {"events": _events(dt.datetime.now(dt.timezone.utc))}, deployment.key)
    assert status == 201, body
    prom = deployment.prometheus

    def firing():
        return [a for a in prom.api("alerts")["alerts"]
                if a["labels"]["alertname"] == "StridelineDeadLetters" and a["state"] == "firing"]

    (alert,) = wait_for("StridelineDeadLetters firing", firing, 90)
    assert alert["labels"]["channel"] == "webhook"
    assert alert["annotations"]["runbook_url"] == prom.base_url + "#stridelinedeadletters"

    worker_env = deployment.env["worker-1"]
    listed = run(["deliveries", "list", "--channel", "webhook"], worker_env, deployment.tmp)
    assert listed.returncode == 0 and "ath-deploy-2" in listed.stdout, listed.stdout + listed.stderr
    deployment.receiver.status = 200
    retried = run(["deliveries", "retry", "--all", "--channel", "webhook"], worker_env, deployment.tmp)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert len(deployment.receiver.received) > before
    assert "ath-deploy-2" not in run(["deliveries", "list"], worker_env, deployment.tmp).stdout


def test_every_process_logs_one_json_object_per_line_and_no_scrape(deployment):
    """The APIs' and workers' output (uvicorn's, dramatiq's and our start-up lines included) is
    JSON, without ANSI colour, and Prometheus' scrapes appear in no access log."""
    for name, process in deployment.processes.items():
        lines = process.lines()
        assert lines, name
        assert not is_json_lines(lines), (name, is_json_lines(lines)[:5])
        assert not any(ANSI.search(line) for line in lines), name
        assert not any("/metrics" in line and "http_request" in line for line in lines), name
