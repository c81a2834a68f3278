"""`strideline serve`: the HTTP API (Litestar on uvicorn).

Embedded default: the in-process pipeline (StubBroker, worker threads, the sweeper and its
day-boundary ticks) runs inside the server, delivering to the notifiers configured as for
`strideline worker` (``STRIDELINE_WEBHOOK_URL`` etc., workers/notify_config.py); a configuration
that cannot run stops the server at start with the setting named. With ``STRIDELINE_REDIS_URL``
set, ingest wakes the Redis workers (`strideline worker`) from a background thread and no worker
runs in the server. Keys: `strideline keys create` (they live in the store).
"""

from __future__ import annotations

import os

import typer

from engine.commands.options import store_option

DEFAULT_METRICS_PORT = 9190


def build_app(*, store: str | None = None, keys: str | None = None, worker_threads: int = 2,
              redis_url: str | None = None):
    """The server's composition root: runtime, keys, and the workers' mode.

    Without Redis the in-process pipeline runs in the app's lifespan, with the configured notifiers.
    With Redis, ingest's wake-up goes to the Redis broker (``workers.wakeup.make_ingest_waker``) for
    `strideline worker` processes. Raises ``NotifyConfigError`` for a notifier setting that cannot run.
    """
    import dataclasses

    from engine.api import create_app
    from engine.keys import KeyStore
    from engine.runtime import build_runtime

    if redis_url:
        runtime = build_runtime(store_url=store)
        from workers.wakeup import make_ingest_waker

        runtime.ingestor.wake = make_ingest_waker(redis_url)
    else:
        from workers import notify_config

        notifiers, routing = notify_config.load()
        runtime = dataclasses.replace(build_runtime(store_url=store, notifiers=notifiers), routing=routing)
    _warn_about_a_key_file(keys)
    return create_app(runtime, start_workers=redis_url is None, keys=KeyStore(runtime.store),
                      redis_url=redis_url, worker_threads=worker_threads)


def _warn_about_a_key_file(path: str | None) -> None:
    """Keys live in the store now; an old key file is no longer read (`strideline keys import`)."""
    from pathlib import Path

    import structlog

    from engine.keys import legacy_key_file

    old = Path(path) if path else legacy_key_file()
    if old is not None and old.is_file():
        structlog.get_logger("strideline.api").warning(
            "key_file_ignored", path=str(old),
            hint="keys live in the store: run `strideline keys import PATH --org ORG` once, then delete the file")


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    store: str = store_option(),
    keys: str = typer.Option(None, help="An old per-host key file: no longer read (warned about; "
                             "`strideline keys import` it once). Keys live in the store."),
    worker_threads: int = typer.Option(2, min=1, help="In-process worker threads (embedded mode only)."),
    log_level: str = typer.Option("INFO", help="Log level."),
    metrics_host: str = typer.Option("127.0.0.1", envvar="STRIDELINE_METRICS_HOST",
                                     help="Interface of the /metrics server (loopback unless told otherwise)."),
    metrics_port: int = typer.Option(None, min=0, max=65535, envvar="STRIDELINE_API_METRICS_PORT",
                                     help=f"Port of /metrics, apart from the API port (default {DEFAULT_METRICS_PORT}; "
                                          "0: no metrics server)."),
) -> None:
    """Serve the HTTP API (/v1, /health, /ready, OpenAPI at /schema/openapi.json); /metrics on its own port."""
    import structlog
    import uvicorn

    from engine.api.observability import MetricsServer
    from engine.logs import configure_logging

    configure_logging(log_level)
    log = structlog.get_logger("strideline.api")
    explicit = metrics_port is not None
    metrics_port = DEFAULT_METRICS_PORT if metrics_port is None else metrics_port
    if metrics_port and metrics_port == port:
        raise typer.BadParameter("must differ from --port: /metrics is not served on the API port",
                                 param_hint="--metrics-port")
    redis_url = os.environ.get("STRIDELINE_REDIS_URL") or None
    try:
        app = build_app(store=store, keys=keys, worker_threads=worker_threads, redis_url=redis_url)
    except ValueError as exc:  # NotifyConfigError among them: the message names the setting
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    server = None
    if metrics_port:
        try:
            server = MetricsServer(app.state.runtime, metrics_host, metrics_port).start()
        except OSError as exc:
            if explicit:  # asked for: refuse to run without it
                log.critical("metrics_port_unavailable", host=metrics_host, port=metrics_port, error=str(exc))
                raise typer.Exit(2) from None
            # the default port, taken (a second server on this host): serve the API, say so loudly
            log.error("metrics_port_unavailable", host=metrics_host, port=metrics_port, error=str(exc),
                      hint="pass --metrics-port (or STRIDELINE_API_METRICS_PORT) to each server on a host")
    log.info("api_starting", url=f"http://{host}:{port}", workers="redis" if redis_url else "in-process",
             openapi="/schema/openapi.json",
             metrics=f"http://{metrics_host}:{metrics_port}/metrics" if server else None)
    # uvicorn's access log would print raw paths and query strings: the app logs its own, safely.
    try:
        uvicorn.run(app, host=host, port=port, access_log=False, log_config=None,
                    log_level=log_level.lower(), proxy_headers=False)
    finally:
        if server is not None:
            server.close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
