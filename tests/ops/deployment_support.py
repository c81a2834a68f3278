"""The processes of ops/compose.yaml, started on this machine: the same `strideline` commands with
the same environment, compose's service names and secrets translated to the test's servers, free
loopback ports and temporary directories. Plus a webhook receiver and a real Prometheus."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from ops_support import COMPOSE, OPS, ROOT
from ports import free_port

WEBHOOK_SECRET = "deployment-test-webhook-secret-32-bytes-or-more"


def wait_for(what: str, check: Callable[[], Any], deadline_s: float = 60.0, every_s: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy, for at most ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, urllib.error.URLError, ValueError, KeyError) as exc:
            last = exc
        time.sleep(every_s)  # polling a condition with a bounded deadline
    raise AssertionError(f"{what}: not within {deadline_s:.0f}s (last: {last!r})")


def http(method: str, url: str, body: Any = None, key: str | None = None, timeout: float = 30) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            if "json" not in response.headers.get("content-type", ""):
                return response.status, raw.decode()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw.startswith(b"{") else raw.decode()


class Receiver:
    """A webhook receiver: records each delivery and answers ``status`` (200, or 410 to refuse)."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = outer.status
                if status == 200:
                    outer.received.append({"headers": dict(self.headers), "body": json.loads(body)})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/strideline"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def compose_services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


class Translation:
    """How compose's world maps onto this machine."""

    def __init__(self, *, store_url: str, redis_url: str, webhook_url: str, tmp: Path) -> None:
        self.store_url, self.redis_url, self.webhook_url, self.tmp = store_url, redis_url, webhook_url, tmp

    def env(self, service: str, spec: dict) -> dict[str, str]:
        """The service's compose environment, each value translated; nothing added but PATH and the like."""
        out = {}
        for name, value in (spec.get("environment") or {}).items():
            value = str(value)
            if value.startswith("postgresql://"):
                value = self.store_url
            elif value.startswith("redis://"):
                value = self.redis_url
            elif name == "STRIDELINE_WEBHOOK_URL":
                value = self.webhook_url
            elif name == "STRIDELINE_WEBHOOK_SECRET":
                value = WEBHOOK_SECRET
            elif name == "STRIDELINE_METRICS_HOST":
                value = "127.0.0.1"  # compose's private network; loopback here
            elif name == "PROMETHEUS_MULTIPROC_DIR" or name == "STRIDELINE_KEYS_PATH":
                path = self.tmp / service / Path(value).name
                path.parent.mkdir(parents=True, exist_ok=True)
                if name == "PROMETHEUS_MULTIPROC_DIR":
                    path.mkdir(exist_ok=True)
                value = str(path)
            assert "${" not in value, f"{service}: {name} left untranslated"
            out[name] = value
        return out

    @staticmethod
    def command(spec: dict, ports: dict[str, int]) -> list[str]:
        """The compose command with its ports replaced by ``ports`` (flag -> port) and hosts by loopback."""
        argv = list(spec["command"])
        for i, arg in enumerate(argv[:-1]):
            if arg in ports:
                argv[i + 1] = str(ports[arg])
            if arg == "--host":
                argv[i + 1] = "127.0.0.1"
        return argv


def base_env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("STRIDELINE_", "PROMETHEUS_MULTIPROC", "dramatiq_"))}
    return keep | {"PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
                   "PYTHONPATH": str(ROOT)}


class Process:
    """One `strideline` process with its output in a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], tmp: Path) -> None:
        self.name = name
        self.log_path = tmp / f"{name}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["strideline", *argv], env=env, cwd=tmp, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()

    def lines(self) -> list[str]:
        return [line for line in self.log_path.read_text().splitlines() if line.strip()]


def run(argv: list[str], env: dict[str, str], tmp: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["strideline", *argv], env=env, cwd=tmp, capture_output=True, text=True, timeout=timeout)


class Prometheus:
    """Debian's prometheus, scraping the given targets every second and evaluating ops/alerts.yml."""

    def __init__(self, binary: str, tmp: Path, targets: dict[str, list[str]]) -> None:
        config = yaml.safe_load((OPS / "prometheus.yml").read_text())
        config["global"] |= {"scrape_interval": "1s", "evaluation_interval": "1s"}
        config["rule_files"] = [str(OPS / "alerts.yml")]
        config.pop("alerting", None)  # no Alertmanager here: the alerts are read from Prometheus
        config["scrape_configs"] = [{"job_name": job, "static_configs": [{"targets": hosts}]}
                                    for job, hosts in targets.items()]
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = config["global"]["external_labels"]["runbook_base"]
        self._log = open(tmp / "prometheus.log", "w")
        self.proc = subprocess.Popen([binary, f"--config.file={tmp / 'prometheus.yml'}",
                                      f"--storage.tsdb.path={tmp / 'tsdb'}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def api(self, path: str) -> Any:
        status, body = http("GET", f"{self.url}/api/v1/{path}")
        if status == 503:  # still starting (TSDB not ready): wait_for polls again
            raise ValueError(f"prometheus not ready yet: {body!r}")
        assert status == 200 and body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query?query=" + urllib.request.quote(expr))["result"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._log.close()


def is_json_lines(lines: list[str]) -> list[str]:
    """The lines that are not one JSON object each."""
    bad = []
    for line in lines:
        try:
            if not isinstance(json.loads(line), dict):
                bad.append(line)
        except ValueError:
            bad.append(line)
    return bad


ANSI = re.compile(r"\x1b\[")
