"""Helpers for tests/ops: read the shipped ops files, pull metric names out of PromQL, list what an
exposition really contains, run promtool."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops"
ALERTS = OPS / "alerts.yml"
ALERT_TESTS = OPS / "alerts.test.yml"
WEEKLY_ALERT_TESTS = OPS / "alerts.weekly.test.yml"
ALERTMANAGER = OPS / "alertmanager.yml"
PROMETHEUS = OPS / "prometheus.yml"
DASHBOARD = OPS / "grafana" / "dashboards" / "strideline.json"
RUNBOOK = OPS / "runbook.md"
COMPOSE = OPS / "compose.yaml"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

PROMQL_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                   "bool", "offset", "inf", "nan", "atan2"}
SYNTHETIC = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}
"""Series Prometheus makes itself; never in a /metrics body."""


def promql_metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (functions, keywords, labels, durations left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)      # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)                                     # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)                                     # ranges, subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in PROMQL_KEYWORDS:
            continue
        names.add(name)
    return names


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in alert_rules() if "record" in rule}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def dashboard_panels() -> list[dict]:
    out = []
    for panel in dashboard()["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in dashboard_panels() for t in p.get("targets", [])]


def rule_exprs() -> list[str]:
    return [str(rule["expr"]) for rule in alert_rules()]


def exposed_names(text: str) -> set[str]:
    """Every name a PromQL selector could use against this exposition: sample names, and for a
    family without samples yet, the names its type implies (``_total``; ``_bucket/_sum/_count``)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {s.name for s in family.samples}
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names |= {family.name + suffix for suffix in ("_bucket", "_sum", "_count")}
        else:
            names.add(family.name)
    return names


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def total(text: str, name: str, **labels: str) -> float:
    return sum(s.value for s in samples(text)
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def promtool() -> str:
    """The promtool binary; skip with the reason when it is missing, fail under CI=true."""
    found = shutil.which("promtool")
    if found:
        return found
    message = ("promtool is not installed (Debian package `prometheus`; scripts/test.sh installs it as "
               "root)")
    if IN_CI:
        pytest.fail(message + " - CI=true: the rule checks must run")
    pytest.skip(message)


def _binary(name: str, package: str) -> str:
    """A Debian-packaged binary; skip with the reason when it is missing, fail under CI=true."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (Debian package `{package}`; scripts/test.sh installs it as root)"
    if IN_CI:
        pytest.fail(message + " - CI=true: the checks that need it must run")
    pytest.skip(message)


def amtool() -> str:
    return _binary("amtool", "prometheus-alertmanager")


def prometheus_server() -> str:
    return _binary("prometheus", "prometheus")


def run_promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([promtool(), *args], cwd=OPS, capture_output=True, text=True, timeout=120)


def issued_recommendations(store_path) -> int:
    """Recommendations issued in a SQLite store (withdrawals, also in the recommendation streams,
    left out): what ``strideline_recommendations_total`` counts."""
    from engine.store.sqlite import SQLiteEventStore
    from events.vocabulary import RecommendationIssued

    store = SQLiteEventStore(store_path)
    try:
        return sum(isinstance(e.data, RecommendationIssued) for e in store.iter_all())
    finally:
        store.close()

