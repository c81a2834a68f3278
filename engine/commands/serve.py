"""`strideline serve`: the HTTP API (Litestar on uvicorn).

Embedded default: the in-process pipeline (StubBroker, worker threads) runs inside the server.
With ``STRIDELINE_REDIS_URL`` set, ingest wakes the Redis workers (`dramatiq workers.actors`) and no
worker runs in the server. Keys: `strideline keys create` (file: ``STRIDELINE_KEYS_PATH``).
"""

from __future__ import annotations

import os

import typer

STORE_HELP = "Store URL or SQLite path (default: $STRIDELINE_STORE_URL or var/strideline.sqlite3)."


def wire_redis_wake(runtime) -> None:
    """Redis mode: after each commit ingest sends its wake-up to the Redis broker."""
    from dramatiq.brokers.redis import RedisBroker

    from workers import actors  # the broker is chosen from STRIDELINE_REDIS_URL at import

    if not isinstance(actors.project.broker, RedisBroker):
        raise RuntimeError("STRIDELINE_REDIS_URL is set but the workers' broker is not Redis")
    runtime.ingestor.wake = actors.wake


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    store: str = typer.Option(None, help=STORE_HELP),
    keys: str = typer.Option(None, help="API key file (default: $STRIDELINE_KEYS_PATH or var/keys.sqlite3)."),
    worker_threads: int = typer.Option(2, min=1, help="In-process worker threads (embedded mode only)."),
    log_level: str = typer.Option("INFO", help="Log level."),
) -> None:
    """Serve the HTTP API (/v1, /health, /ready, OpenAPI at /schema/openapi.json)."""
    import uvicorn

    from engine.api import create_app
    from engine.keys import KeyStore
    from engine.logs import configure_logging
    from engine.runtime import build_runtime

    configure_logging(log_level)
    redis_url = os.environ.get("STRIDELINE_REDIS_URL") or None
    runtime = build_runtime(store_url=store)
    if redis_url:
        wire_redis_wake(runtime)
    app = create_app(runtime, start_workers=redis_url is None, keys=KeyStore(keys),
                     redis_url=redis_url, worker_threads=worker_threads)
    typer.echo(f"strideline API on http://{host}:{port} (workers: "
               f"{'Redis' if redis_url else 'in-process'}); OpenAPI at /schema/openapi.json", err=True)
    # uvicorn's access log would print raw paths and query strings: the app logs its own, safely.
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None,
                log_level=log_level.lower(), proxy_headers=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
