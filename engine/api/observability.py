"""The API's RED metrics and its /metrics server, apart from the public API port.

* ``record``: every HTTP request counted by method, route *template* and status, and timed
  (``strideline_http_requests_total``, ``strideline_http_request_duration_seconds``; defined in
  engine/metrics/instruments.py). Templates, never raw paths: no athlete id becomes a label.
* ``zero_routes``: each route's 500 series exists at 0 from start-up, so the first burst of
  server errors is an increase the 5xx-ratio alert sees.
* ``MetricsServer``: /metrics on its own address (``strideline serve --metrics-port``, loopback by
  default). Keeping it off the API port means no API key question, no exposure through the load
  balancer, and scrapes never appear in the API's ``http_request`` log.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine import metrics as engine_metrics

UNMATCHED = "<unmatched>"


def record(scope: dict[str, Any], status: int, seconds: float) -> None:
    """Count and time one answered HTTP request."""
    engine_metrics.http_request(scope.get("method") or "?", scope.get("path_template") or UNMATCHED, status,
                                seconds)


def zero_routes(app) -> None:
    """Create every (method, route, "500") series at 0 for the app's HTTP routes."""
    for route in app.routes:
        for method in sorted(getattr(route, "methods", ()) or ()):
            if method in ("HEAD", "OPTIONS"):
                continue
            engine_metrics.HTTP_REQUESTS.labels(method, route.path_format, "500")


class MetricsServer:
    """Serves ``engine.metrics.exposition(runtime)`` at /metrics on ``host:port`` from a daemon thread."""

    def __init__(self, runtime, host: str = "127.0.0.1", port: int = 9190) -> None:
        exposition = engine_metrics.exposition

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                if self.path.split("?")[0] not in ("/", "/metrics"):
                    self.send_error(404)
                    return
                body, media_type = exposition(runtime)
                self.send_response(200)
                self.send_header("Content-Type", f"{media_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # scrapes are not access-logged
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.address = self.server.server_address[:2]
        self._thread = threading.Thread(target=self.server.serve_forever, name="strideline-metrics",
                                        daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
